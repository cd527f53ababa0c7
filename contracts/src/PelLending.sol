// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// The price of one ether in units of the lent asset (18 decimals), set by its owner.
contract PelOracle {
    address public immutable owner;
    uint256 public price;

    event PriceSet(uint256 price);

    constructor(uint256 initialPrice) {
        owner = msg.sender;
        price = initialPrice;
    }

    function setPrice(uint256 newPrice) external {
        require(msg.sender == owner, "PelOracle: OWNER");
        require(newPrice > 0, "PelOracle: PRICE");
        price = newPrice;
        emit PriceSet(newPrice);
    }
}

/// One Compound-style lending market (written for pel's benchmarks): lenders deposit an ERC-20
/// asset, borrowers post ether as collateral and borrow the asset up to the collateral factor at
/// the oracle's price, repay, and anyone may liquidate an undercollateralised borrower (repay up
/// to the close factor of the debt, seize collateral worth the repayment plus an 8% incentive).
///
/// Interest accrues per block, as in Compound: the first action of a block that touches the
/// debt multiplies the borrow index and the total borrows by (1 + rate * blocks elapsed); a
/// borrower's debt is principal * borrowIndex / (index at the last borrow or repayment).
///
/// Hot slots, kept on purpose because real markets have them: `totalBorrows`, `totalDeposits`,
/// the accrual fields and the market's balance of the asset change with every deposit, borrow,
/// repayment and liquidation, so the actions of one market form one chain of dependencies.
/// `supplyCollateral` writes only the caller's collateral and the market's ether balance.
/// Workloads spread users over several markets to show how the contention scales.
contract PelLendingMarket {
    uint256 private constant kScale = 1e18;
    uint256 public constant closeFactor = 0.5e18;
    uint256 public constant liquidationIncentive = 1.08e18;

    IERC20 public immutable asset;
    PelOracle public immutable oracle;
    uint256 public immutable collateralFactor;
    uint256 public immutable borrowRatePerBlock;

    uint256 public totalDeposits;
    uint256 public totalBorrows;
    uint256 public borrowIndex = kScale;
    uint256 public accrualBlock;

    struct BorrowSnapshot {
        uint128 principal;
        uint128 index;
    }

    mapping(address => uint256) public deposits;
    mapping(address => uint256) public collateral;
    mapping(address => BorrowSnapshot) private borrows;

    event Deposit(address indexed lender, uint256 amount);
    event SupplyCollateral(address indexed borrower, uint256 amount);
    event Borrow(address indexed borrower, uint256 amount, uint256 debt);
    event Repay(address indexed payer, address indexed borrower, uint256 amount, uint256 debt);
    event Liquidate(address indexed liquidator, address indexed borrower, uint256 repaid,
                    uint256 seized);

    constructor(IERC20 asset_, PelOracle oracle_, uint256 collateralFactor_,
                uint256 borrowRatePerBlock_) {
        require(collateralFactor_ < kScale, "PelLending: FACTOR");
        asset = asset_;
        oracle = oracle_;
        collateralFactor = collateralFactor_;
        borrowRatePerBlock = borrowRatePerBlock_;
        accrualBlock = block.number;
    }

    function accrueInterest() public {
        uint256 prior = accrualBlock;
        if (prior == block.number) return;
        uint256 factor = borrowRatePerBlock * (block.number - prior);
        totalBorrows += (totalBorrows * factor) / kScale;
        borrowIndex += (borrowIndex * factor) / kScale;
        accrualBlock = block.number;
    }

    /// The borrower's debt at the current index.
    function borrowBalance(address borrower) public view returns (uint256) {
        BorrowSnapshot memory s = borrows[borrower];
        if (s.principal == 0) return 0;
        return (uint256(s.principal) * borrowIndex) / s.index;
    }

    /// Collateral value at the oracle price times the collateral factor, in asset units.
    function borrowLimit(address borrower) public view returns (uint256) {
        return (collateral[borrower] * oracle.price() / kScale) * collateralFactor / kScale;
    }

    function deposit(uint256 amount) external {
        require(amount > 0, "PelLending: AMOUNT");
        accrueInterest();
        require(asset.transferFrom(msg.sender, address(this), amount), "PelLending: TRANSFER");
        deposits[msg.sender] += amount;
        totalDeposits += amount;
        emit Deposit(msg.sender, amount);
    }

    function supplyCollateral() external payable {
        require(msg.value > 0, "PelLending: AMOUNT");
        collateral[msg.sender] += msg.value;
        emit SupplyCollateral(msg.sender, msg.value);
    }

    function borrow(uint256 amount) external {
        require(amount > 0, "PelLending: AMOUNT");
        accrueInterest();
        uint256 debt = borrowBalance(msg.sender) + amount;
        require(debt <= borrowLimit(msg.sender), "PelLending: SHORTFALL");
        require(asset.balanceOf(address(this)) >= amount, "PelLending: CASH");
        _setDebt(msg.sender, debt);
        totalBorrows += amount;
        require(asset.transfer(msg.sender, amount), "PelLending: TRANSFER");
        emit Borrow(msg.sender, amount, debt);
    }

    /// Repays up to `amount` of the caller's debt (the whole debt when `amount` exceeds it).
    function repay(uint256 amount) external {
        accrueInterest();
        uint256 debt = borrowBalance(msg.sender);
        uint256 paid = amount < debt ? amount : debt;
        require(paid > 0, "PelLending: NO_DEBT");
        require(asset.transferFrom(msg.sender, address(this), paid), "PelLending: TRANSFER");
        _setDebt(msg.sender, debt - paid);
        totalBorrows = totalBorrows > paid ? totalBorrows - paid : 0;
        emit Repay(msg.sender, msg.sender, paid, debt - paid);
    }

    /// Repays `amount` of `borrower`'s debt, who must be over the borrow limit, and takes
    /// collateral worth amount * (1 + incentive) at the oracle price (credited as collateral).
    function liquidate(address borrower, uint256 amount) external {
        require(borrower != msg.sender && amount > 0, "PelLending: LIQUIDATE");
        accrueInterest();
        uint256 debt = borrowBalance(borrower);
        require(debt > borrowLimit(borrower), "PelLending: NOT_UNDERWATER");
        require(amount <= (debt * closeFactor) / kScale, "PelLending: CLOSE_FACTOR");
        uint256 seized = (amount * liquidationIncentive) / oracle.price();
        require(seized <= collateral[borrower], "PelLending: SEIZE");
        require(asset.transferFrom(msg.sender, address(this), amount), "PelLending: TRANSFER");
        _setDebt(borrower, debt - amount);
        totalBorrows = totalBorrows > amount ? totalBorrows - amount : 0;
        collateral[borrower] -= seized;
        collateral[msg.sender] += seized;
        emit Liquidate(msg.sender, borrower, amount, seized);
    }

    function _setDebt(address borrower, uint256 debt) private {
        require(debt <= type(uint128).max && borrowIndex <= type(uint128).max, "PelLending: OVERFLOW");
        borrows[borrower] = BorrowSnapshot(uint128(debt), uint128(borrowIndex));
    }
}
