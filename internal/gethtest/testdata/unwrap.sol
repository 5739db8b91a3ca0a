// SPDX-License-Identifier: MIT
// The contracts of heistgraph's staged unwrap on geth --dev
// (internal/gethtest/unwrap.go): a wrapped-ether contract with WETH9's
// interface and events (written for heistgraph, not WETH9's source), and a
// router that swaps a token for ETH as Uniswap v2's swapExactTokensForETH
// does: the caller's tokens into a Pair (heist.sol) whose other token is
// the wrapped ether, the pair's WETH to the router, which unwraps it and
// pays the ETH on, all in one transaction. compile.mjs compiles this file
// into unwrap.json; TestContractsCompiled checks the two agree.
pragma solidity 0.8.37;

interface IERC20 {
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

// IPair is heist.sol's Pair as the router calls it.
interface IPair {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function reserve0() external view returns (uint256);
    function reserve1() external view returns (uint256);
    function swap(uint256 amount0Out, uint256 amount1Out, address to) external;
}

// WETH wraps ether 1:1 with WETH9's events: Deposit(dst, wad) when ether
// comes in, Withdrawal(src, wad) after paying it back out (WETH9 pays,
// then logs), and ERC-20 Transfer and Approval.
contract WETH {
    string public constant symbol = "WETH";
    uint8 public constant decimals = 18;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Approval(address indexed src, address indexed guy, uint256 wad);
    event Transfer(address indexed src, address indexed dst, uint256 wad);
    event Deposit(address indexed dst, uint256 wad);
    event Withdrawal(address indexed src, uint256 wad);

    receive() external payable {
        deposit();
    }

    function deposit() public payable {
        balanceOf[msg.sender] += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    function withdraw(uint256 wad) external {
        require(balanceOf[msg.sender] >= wad, "balance");
        balanceOf[msg.sender] -= wad;
        payable(msg.sender).transfer(wad);
        emit Withdrawal(msg.sender, wad);
    }

    function approve(address guy, uint256 wad) external returns (bool) {
        allowance[msg.sender][guy] = wad;
        emit Approval(msg.sender, guy, wad);
        return true;
    }

    function transfer(address dst, uint256 wad) external returns (bool) {
        return transferFrom(msg.sender, dst, wad);
    }

    function transferFrom(address src, address dst, uint256 wad) public returns (bool) {
        require(balanceOf[src] >= wad, "balance");
        if (src != msg.sender && allowance[src][msg.sender] != type(uint256).max) {
            require(allowance[src][msg.sender] >= wad, "allowance");
            allowance[src][msg.sender] -= wad;
        }
        balanceOf[src] -= wad;
        balanceOf[dst] += wad;
        emit Transfer(src, dst, wad);
        return true;
    }
}

// UnwrapRouter swaps an exact input of a token for ETH through a
// token/WETH Pair.
contract UnwrapRouter {
    // receive takes the ether WETH pays back on withdraw.
    receive() external payable {}

    // swapExactTokensForETH pays amountIn of tokenIn from the caller into
    // the pair, has it pay the WETH output (Uniswap v2's getAmountOut) to
    // the router, unwraps it and pays the ether to `to`.
    function swapExactTokensForETH(IPair pair, address tokenIn, WETH weth, uint256 amountIn, address payable to) external returns (uint256 out) {
        bool zeroIn = tokenIn == pair.token0();
        require(zeroIn ? pair.token1() == address(weth) : (tokenIn == pair.token1() && pair.token0() == address(weth)), "not a token/WETH pair");
        (uint256 rIn, uint256 rOut) = zeroIn ? (pair.reserve0(), pair.reserve1()) : (pair.reserve1(), pair.reserve0());
        out = (amountIn * 997 * rOut) / (rIn * 1000 + amountIn * 997);
        require(IERC20(tokenIn).transferFrom(msg.sender, address(pair), amountIn), "pay the pair");
        (uint256 o0, uint256 o1) = zeroIn ? (uint256(0), out) : (out, uint256(0));
        pair.swap(o0, o1, address(this));
        weth.withdraw(out);
        (bool ok, ) = to.call{value: out}("");
        require(ok, "pay out");
    }
}
