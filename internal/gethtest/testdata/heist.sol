// SPDX-License-Identifier: MIT
// The contracts of heistgraph's staged heist on geth --dev
// (internal/gethtest/heist.go): a minimal constant-product pool that emits
// Uniswap v2's exact Swap event, and a router that pays it from the
// caller's approved tokens (so the pool's input Transfer and its Swap log
// are in one transaction, as with Uniswap's router). compile.mjs compiles
// this file into heist.json; TestContractsCompiled checks the two agree.
pragma solidity 0.8.37;

interface IERC20 {
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

// Pair is Uniswap v2's swap rule (0.3% fee, the constant product checked
// on balances) on two sorted tokens, without liquidity shares: its
// reserves are what it was paid before sync.
contract Pair {
    address public immutable token0;
    address public immutable token1;
    uint256 public reserve0;
    uint256 public reserve1;

    event Swap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );

    constructor(address a, address b) {
        require(a != b, "identical tokens");
        (token0, token1) = a < b ? (a, b) : (b, a);
    }

    // sync takes the pool's balances as its reserves.
    function sync() external {
        reserve0 = IERC20(token0).balanceOf(address(this));
        reserve1 = IERC20(token1).balanceOf(address(this));
    }

    // swap pays the outputs to `to`, then takes as input what the pool
    // holds beyond its reserves, checks the constant product and logs Swap.
    function swap(uint256 amount0Out, uint256 amount1Out, address to) external {
        require(amount0Out > 0 || amount1Out > 0, "no output");
        require(amount0Out < reserve0 && amount1Out < reserve1, "liquidity");
        if (amount0Out > 0) require(IERC20(token0).transfer(to, amount0Out), "pay token0");
        if (amount1Out > 0) require(IERC20(token1).transfer(to, amount1Out), "pay token1");
        uint256 b0 = IERC20(token0).balanceOf(address(this));
        uint256 b1 = IERC20(token1).balanceOf(address(this));
        uint256 in0 = b0 > reserve0 - amount0Out ? b0 - (reserve0 - amount0Out) : 0;
        uint256 in1 = b1 > reserve1 - amount1Out ? b1 - (reserve1 - amount1Out) : 0;
        require(in0 > 0 || in1 > 0, "no input");
        require((b0 * 1000 - in0 * 3) * (b1 * 1000 - in1 * 3) >= reserve0 * reserve1 * 1_000_000, "k");
        reserve0 = b0;
        reserve1 = b1;
        emit Swap(msg.sender, in0, in1, amount0Out, amount1Out, to);
    }
}

// Router swaps an exact input through a Pair.
contract Router {
    // swapExactIn pays amountIn of tokenIn from the caller into the pair
    // and has it pay the output (Uniswap v2's getAmountOut) to `to`.
    function swapExactIn(Pair pair, address tokenIn, uint256 amountIn, address to) external returns (uint256 out) {
        bool zeroIn = tokenIn == pair.token0();
        require(zeroIn || tokenIn == pair.token1(), "not a token of the pair");
        (uint256 rIn, uint256 rOut) = zeroIn ? (pair.reserve0(), pair.reserve1()) : (pair.reserve1(), pair.reserve0());
        out = (amountIn * 997 * rOut) / (rIn * 1000 + amountIn * 997);
        require(IERC20(tokenIn).transferFrom(msg.sender, address(pair), amountIn), "pay the pair");
        (uint256 o0, uint256 o1) = zeroIn ? (uint256(0), out) : (out, uint256(0));
        pair.swap(o0, o1, to);
    }
}
