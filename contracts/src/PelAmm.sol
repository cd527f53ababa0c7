// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// A constant-product pair in the style of Uniswap V2 (written for pel's benchmarks, not copied):
/// two ERC-20 reserves packed in one slot with the last block timestamp, price accumulators
/// updated on the first trade of each block, a re-entrancy lock in storage, and `swap` with the
/// optimistic transfer out, the 0.3% fee and the x*y=k check on the balances. Liquidity is added
/// by transferring tokens to the pair and calling `sync` (no LP token: the benchmark swaps only).
contract PelPair {
    address public immutable token0;
    address public immutable token1;

    uint112 private reserve0;
    uint112 private reserve1;
    uint32 private blockTimestampLast;
    uint256 public price0CumulativeLast;
    uint256 public price1CumulativeLast;
    uint256 private unlocked = 1;

    event Swap(address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out,
               uint256 amount1Out, address indexed to);
    event Sync(uint112 reserve0, uint112 reserve1);

    modifier lock() {
        require(unlocked == 1, "PelPair: LOCKED");
        unlocked = 2;
        _;
        unlocked = 1;
    }

    constructor(address tokenA, address tokenB) {
        require(tokenA != tokenB && tokenA != address(0) && tokenB != address(0), "PelPair: TOKENS");
        token0 = tokenA;
        token1 = tokenB;
    }

    function getReserves() public view returns (uint112 r0, uint112 r1, uint32 timestamp) {
        return (reserve0, reserve1, blockTimestampLast);
    }

    function _update(uint256 balance0, uint256 balance1, uint112 r0, uint112 r1) private {
        require(balance0 <= type(uint112).max && balance1 <= type(uint112).max, "PelPair: OVERFLOW");
        uint32 timestamp = uint32(block.timestamp);
        unchecked {
            uint32 elapsed = timestamp - blockTimestampLast;
            if (elapsed > 0 && r0 != 0 && r1 != 0) {
                // Prices as 112.112 fixed point, as V2 keeps them (overflow is intended).
                price0CumulativeLast += ((uint256(r1) << 112) / r0) * elapsed;
                price1CumulativeLast += ((uint256(r0) << 112) / r1) * elapsed;
            }
        }
        reserve0 = uint112(balance0);
        reserve1 = uint112(balance1);
        blockTimestampLast = timestamp;
        emit Sync(reserve0, reserve1);
    }

    /// Sends the outputs to `to`, then requires that the tokens already sent in keep
    /// (x - 0.3% of x_in) * (y - 0.3% of y_in) >= x0 * y0.
    function swap(uint256 amount0Out, uint256 amount1Out, address to) external lock {
        require(amount0Out > 0 || amount1Out > 0, "PelPair: INSUFFICIENT_OUTPUT");
        (uint112 r0, uint112 r1,) = getReserves();
        require(amount0Out < r0 && amount1Out < r1, "PelPair: INSUFFICIENT_LIQUIDITY");
        require(to != token0 && to != token1, "PelPair: INVALID_TO");
        if (amount0Out > 0) require(IERC20(token0).transfer(to, amount0Out), "PelPair: TRANSFER");
        if (amount1Out > 0) require(IERC20(token1).transfer(to, amount1Out), "PelPair: TRANSFER");
        uint256 balance0 = IERC20(token0).balanceOf(address(this));
        uint256 balance1 = IERC20(token1).balanceOf(address(this));
        uint256 amount0In = balance0 > r0 - amount0Out ? balance0 - (r0 - amount0Out) : 0;
        uint256 amount1In = balance1 > r1 - amount1Out ? balance1 - (r1 - amount1Out) : 0;
        require(amount0In > 0 || amount1In > 0, "PelPair: INSUFFICIENT_INPUT");
        uint256 adjusted0 = balance0 * 1000 - amount0In * 3;
        uint256 adjusted1 = balance1 * 1000 - amount1In * 3;
        require(adjusted0 * adjusted1 >= uint256(r0) * uint256(r1) * 1000 ** 2, "PelPair: K");
        _update(balance0, balance1, r0, r1);
        emit Swap(msg.sender, amount0In, amount1In, amount0Out, amount1Out, to);
    }

    /// Sets the reserves to the balances (after liquidity was transferred in).
    function sync() external lock {
        _update(IERC20(token0).balanceOf(address(this)), IERC20(token1).balanceOf(address(this)),
                reserve0, reserve1);
    }
}

/// The single-transaction entry point for a swap, as a V2 router does it: quotes from the
/// pair's reserves, pulls the input from the caller into the pair (the caller approved the
/// router), and calls the pair's swap.
contract PelRouter {
    /// Swaps exactly `amountIn` of `tokenIn` for the other token of `pair`, sent to `to`.
    function swapExactIn(address pair, address tokenIn, uint256 amountIn, uint256 amountOutMin,
                         address to) external returns (uint256 amountOut) {
        require(amountIn > 0, "PelRouter: INSUFFICIENT_INPUT");
        (uint112 r0, uint112 r1,) = PelPair(pair).getReserves();
        bool zeroForOne = tokenIn == PelPair(pair).token0();
        require(zeroForOne || tokenIn == PelPair(pair).token1(), "PelRouter: TOKEN");
        (uint256 reserveIn, uint256 reserveOut) = zeroForOne ? (uint256(r0), uint256(r1))
                                                             : (uint256(r1), uint256(r0));
        uint256 inWithFee = amountIn * 997;
        amountOut = (inWithFee * reserveOut) / (reserveIn * 1000 + inWithFee);
        require(amountOut >= amountOutMin && amountOut > 0, "PelRouter: INSUFFICIENT_OUTPUT");
        require(IERC20(tokenIn).transferFrom(msg.sender, pair, amountIn), "PelRouter: TRANSFER");
        if (zeroForOne) {
            PelPair(pair).swap(0, amountOut, to);
        } else {
            PelPair(pair).swap(amountOut, 0, to);
        }
    }
}
