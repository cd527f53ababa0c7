// SPDX-License-Identifier: Apache-2.0
// exec::TxnState: the state overlay of one transaction. It reads through a StateReader, buffers
// every write, journals changes so call frames can be reverted, and at the end yields the
// transaction's write set (TxnWrites). The sequential executor applies the write set to
// state::MemState; Block-STM will route the reads to multi-version memory and publish the write
// set there.
//
// Thread safety: not thread safe; one TxnState per transaction execution. It owns no globals.
//
// Invariants:
//  - Each account or slot is read from the reader at most once, on first access; that value is
//    the "original" (transaction-start) value used by EIP-2200 and by the write set.
//  - Every mutation of the overlay pushes an undo record onto the journal before it happens, so
//    revert(snapshot()) restores the overlay exactly, logs and warm sets included.
//  - Code views handed out stay valid until the TxnState is destroyed (deployed code is never
//    freed during the transaction, even when the deploying frame reverts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "execution/state_reader.hpp"
#include "primitives/bytes.hpp"
#include "primitives/hash.hpp"
#include "primitives/u256.hpp"
#include "vm/host.hpp"

namespace pel::exec {

/// A LOG0..LOG4 record.
struct Log {
    Address address;
    std::vector<Hash32> topics;
    Bytes data;
    friend bool operator==(const Log&, const Log&) = default;
};

struct StorageWrite {
    U256 key;
    U256 value;
    friend bool operator==(const StorageWrite&, const StorageWrite&) = default;
};

/// The net effect of one transaction on one account.
struct AccountWrite {
    Address address;
    /// The account is removed together with all its storage (EIP-6780 self-destruct of an account
    /// created in the transaction, or EIP-161 cleanup of a touched empty account). Nothing else in
    /// this record is meaningful then.
    bool deleted = false;
    /// The account was (re)created in this transaction: drop its stored slots before applying
    /// `storage`.
    bool storage_cleared = false;
    /// New header (always the complete header, changed or not).
    AccountInfo info;
    /// Deployed code, present when the code changed; keccak256(*code) == info.code_hash.
    std::optional<Bytes> code;
    /// Slots whose value differs from the transaction-start value (or every non-zero slot when
    /// storage_cleared), sorted by key.
    std::vector<StorageWrite> storage;
    friend bool operator==(const AccountWrite&, const AccountWrite&) = default;
};

/// Write set of a transaction, sorted by address. Applying it to the state the transaction read
/// from yields the post-transaction state.
struct TxnWrites {
    std::vector<AccountWrite> accounts;
};

/// Per-transaction overlay over a StateReader. See the file comment for the contract.
class TxnState {
  public:
    /// `reader` must outlive this object.
    explicit TxnState(StateReader& reader) noexcept : reader_(reader) {}
    TxnState(const TxnState&) = delete;
    TxnState& operator=(const TxnState&) = delete;
    TxnState(TxnState&&) = delete;
    TxnState& operator=(TxnState&&) = delete;
    /// Out of line: the containers' destruction is kilobytes of code that every caller would
    /// otherwise inline (apply_transaction runs once per transaction).
    ~TxnState();

    // --- accounts --------------------------------------------------------------------------------
    /// The current header, or nullptr if the account does not exist. Valid until the next mutation.
    [[nodiscard]] const AccountInfo* find_account(const Address& addr) noexcept;
    /// Present in state (possibly empty).
    [[nodiscard]] bool exists(const Address& addr) noexcept {
        return find_account(addr) != nullptr;
    }
    /// EIP-161: present and not empty.
    [[nodiscard]] bool is_live(const Address& addr) noexcept;
    [[nodiscard]] uint64_t nonce(const Address& addr) noexcept;
    [[nodiscard]] U256 balance(const Address& addr) noexcept;
    /// kEmptyCodeHash for absent accounts.
    [[nodiscard]] Hash32 code_hash(const Address& addr) noexcept;
    /// The account's code; empty for absent accounts. Valid for the TxnState's lifetime.
    [[nodiscard]] ByteView code(const Address& addr) noexcept;
    /// EIP-7610: at least one non-zero storage slot, base state and writes combined.
    [[nodiscard]] bool has_storage(const Address& addr) noexcept;

    /// Creates the account (empty) if absent.
    void set_nonce(const Address& addr, uint64_t nonce) noexcept;
    /// Adds to the balance (wrapping is the caller's concern; supply cannot overflow U256).
    /// Creates the account if absent and touches it (EIP-161), even for a zero amount.
    void add_balance(const Address& addr, const U256& amount) noexcept;
    /// Subtracts; the caller has checked the balance covers `amount`. Touches the account.
    void sub_balance(const Address& addr, const U256& amount) noexcept;
    /// Sets the balance outright (self-destruct of a new account burns it).
    void set_balance(const Address& addr, const U256& amount) noexcept;
    /// Deploys code (keccak256 computed here).
    void set_code(const Address& addr, ByteView code) noexcept;
    /// CREATE/CREATE2 on `addr`: the account keeps its balance, gets nonce `nonce` and no code,
    /// its stored slots are disregarded from now on (EIP-7610 makes that a no-op on valid
    /// chains), and it is marked created-in-this-transaction (EIP-6780).
    void create_account(const Address& addr, uint64_t nonce) noexcept;
    [[nodiscard]] bool is_created(const Address& addr) const noexcept;
    /// True once the account was read from the reader (any access but the warm set loads it).
    [[nodiscard]] bool is_loaded(const Address& addr) const noexcept {
        return accounts_.find(addr) != accounts_.end();
    }

    /// EIP-161 touch: at finalize() a touched account that is empty is deleted.
    void touch(const Address& addr) noexcept;
    /// Registers `addr` for deletion at the end of the transaction (EIP-6780 callers only pass
    /// accounts created in this transaction). Returns true the first time.
    bool mark_destructed(const Address& addr) noexcept;

    // --- storage ---------------------------------------------------------------------------------
    [[nodiscard]] U256 storage(const Address& addr, const U256& key) noexcept;
    /// The value at transaction start (EIP-2200 "original value").
    [[nodiscard]] U256 original_storage(const Address& addr, const U256& key) noexcept;
    /// Writes the slot and returns its EIP-2200 status (names per EVMC).
    vm::StorageStatus set_storage(const Address& addr, const U256& key, const U256& value) noexcept;

    /// EIP-1153 transient storage: starts zero in every transaction, journaled like storage.
    [[nodiscard]] U256 transient_storage(const Address& addr, const U256& key) const noexcept;
    void set_transient_storage(const Address& addr, const U256& key, const U256& value) noexcept;

    // --- EIP-2929 access lists -------------------------------------------------------------------
    /// Marks warm; returns the status before the call.
    vm::AccessStatus access_account(const Address& addr) noexcept;
    vm::AccessStatus access_storage(const Address& addr, const U256& key) noexcept;

    // --- logs ------------------------------------------------------------------------------------
    void add_log(Log log) noexcept;
    [[nodiscard]] const std::vector<Log>& logs() const noexcept { return logs_; }
    /// Moves the logs out (the state keeps none): for the receipt, once execution is over.
    [[nodiscard]] std::vector<Log> take_logs() noexcept { return std::move(logs_); }

    // --- journal ---------------------------------------------------------------------------------
    /// A point to revert to. Snapshots nest like call frames.
    [[nodiscard]] size_t snapshot() const noexcept { return journal_.size(); }
    /// Undoes every change made after `snap` (which must come from snapshot() and not have been
    /// reverted past).
    void revert(size_t snap) noexcept;

    // --- end of transaction ----------------------------------------------------------------------
    /// Deletes the self-destructed accounts (EIP-6780) and the touched accounts that are empty
    /// (EIP-161). Call once, after the last frame and the fee payments.
    void finalize() noexcept;
    /// The write set, sorted by address (and each account's slots by key).
    [[nodiscard]] TxnWrites build_writes() const;

  private:
    struct Slot {
        U256 original;
        U256 current;
    };
    struct SlotKey {
        Address addr;
        U256 key;
        friend bool operator==(const SlotKey&, const SlotKey&) = default;
    };
    struct SlotKeyHash {
        size_t operator()(const SlotKey& k) const noexcept {
            return std::hash<Address>{}(k.addr) ^
                   (std::hash<U256>{}(k.key) * 0x9e3779b97f4a7c15ULL);
        }
    };
    struct Account {
        std::optional<AccountInfo> original;  ///< at transaction start
        std::optional<AccountInfo> current;
        bool created = false;          ///< EIP-6780: created in this transaction
        bool destructed = false;       ///< registered by SELFDESTRUCT
        bool storage_cleared = false;  ///< base-state slots are disregarded
        std::unordered_map<U256, Slot> slots;
    };

    // Undo records. Each restores the piece of state it names.
    struct UndoAccount {
        Address addr;
        std::optional<AccountInfo> current;
        bool created;
        bool destructed;
        bool storage_cleared;
    };
    struct UndoSlot {
        Address addr;
        U256 key;
        U256 current;
    };
    struct UndoTransient {
        Address addr;
        U256 key;
        U256 value;
    };
    struct UndoWarmAccount {
        Address addr;
    };
    struct UndoWarmSlot {
        Address addr;
        U256 key;
    };
    struct UndoTouch {
        Address addr;
    };
    struct UndoLog {};
    using Undo = std::variant<UndoAccount, UndoSlot, UndoTransient, UndoWarmAccount, UndoWarmSlot,
                              UndoTouch, UndoLog>;

    Account& load(const Address& addr) noexcept;
    Slot& load_slot(const Address& addr, Account& acc, const U256& key) noexcept;
    void save(const Address& addr, const Account& acc) noexcept;
    AccountInfo& mutable_info(const Address& addr, Account& acc) noexcept;

    StateReader& reader_;
    std::unordered_map<Address, Account> accounts_;
    std::unordered_map<SlotKey, U256, SlotKeyHash> transient_;
    std::unordered_set<Address> warm_accounts_;
    std::unordered_set<SlotKey, SlotKeyHash> warm_slots_;
    std::unordered_set<Address> touched_;
    std::vector<Log> logs_;
    /// Code deployed in this transaction, by hash. Never erased (views must stay valid).
    std::unordered_map<Hash32, Bytes> new_code_;
    std::vector<Undo> journal_;
};

}  // namespace pel::exec
