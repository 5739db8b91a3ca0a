// SPDX-License-Identifier: MIT
// The contracts of heistgraph's geth --dev scenario (internal/gethtest): each
// exists to make a node produce one of the ledger's traps (methods.md §2.1).
// compile.mjs compiles this file with solc-js into contracts.json, which the
// tests deploy; TestContractsCompiled checks the two agree.
pragma solidity 0.8.37;

// Forwarder moves value by inner calls.
contract Forwarder {
    // forward sends msg.value on to `to` with an inner CALL: an internal
    // transfer Forwarder -> to.
    function forward(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "forward failed");
    }

    // tryForward calls `to` with msg.value and ignores a failure: when
    // `to` reverts, the inner frame moves nothing and the value stays here.
    function tryForward(address to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        ok;
    }

    // viaDelegate runs lib.pay(to) in this contract's context: the
    // DELEGATECALL frame moves no value of its own, the CALL inside it
    // moves msg.value from this contract to `to`.
    function viaDelegate(address lib, address payable to) external payable {
        (bool ok, ) = lib.delegatecall(abi.encodeWithSignature("pay(address)", to));
        require(ok, "delegate failed");
    }

    // create deploys a Child with msg.value: an internal CREATE with value.
    function create() external payable returns (address) {
        Child c = new Child{value: msg.value}();
        return address(c);
    }

    // createAndDestroy deploys a Child with msg.value and destroys it in the
    // same transaction, its balance going to `to`.
    function createAndDestroy(address payable to) external payable {
        Child c = new Child{value: msg.value}();
        c.destroy(to);
    }

    receive() external payable {}
}

// Reverter refuses every payment.
contract Reverter {
    receive() external payable {
        revert("no");
    }
}

// PayLib is called by DELEGATECALL.
contract PayLib {
    function pay(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "pay failed");
    }
}

// Child holds value until it self-destructs.
contract Child {
    constructor() payable {}

    // destroy sends the whole balance to `to` by SELFDESTRUCT.
    function destroy(address payable to) external {
        selfdestruct(to);
    }

    receive() external payable {}
}

// Token is a minimal ERC-20 with a fixed supply minted to its deployer.
contract Token {
    string public constant name = "Heist Test Token";
    string public constant symbol = "HTT";
    uint8 public constant decimals = 6;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(uint256 supply) {
        balanceOf[msg.sender] = supply;
        totalSupply = supply;
        emit Transfer(address(0), msg.sender, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        require(allowance[from][msg.sender] >= value, "allowance");
        allowance[from][msg.sender] -= value;
        _move(from, to, value);
        return true;
    }

    // burn destroys value of the caller's tokens: a Transfer to the zero address.
    function burn(uint256 value) external {
        require(balanceOf[msg.sender] >= value, "balance");
        balanceOf[msg.sender] -= value;
        totalSupply -= value;
        emit Transfer(msg.sender, address(0), value);
    }

    function _move(address from, address to, uint256 value) internal {
        require(balanceOf[from] >= value, "balance");
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}

// MiniTornado is a Tornado Cash-like pool without zero knowledge, for the
// mixer tests (methods.md §4.8): deposits of exactly `denomination` wei
// with a commitment, withdrawals naming an unspent nullifier hash (anyone
// may withdraw: there is no proof), each emitting tornado-core's exact
// event (contracts/Tornado.sol), so the ledger keeps them.
contract MiniTornado {
    event Deposit(bytes32 indexed commitment, uint32 leafIndex, uint256 timestamp);
    event Withdrawal(address to, bytes32 nullifierHash, address indexed relayer, uint256 fee);

    uint256 public immutable denomination;
    uint32 public nextIndex;
    mapping(bytes32 => bool) public commitments;
    mapping(bytes32 => bool) public nullifierHashes;

    constructor(uint256 _denomination) {
        denomination = _denomination;
    }

    // deposit takes exactly the denomination and records the commitment as
    // the next leaf.
    function deposit(bytes32 commitment) external payable {
        require(msg.value == denomination, "wrong amount");
        require(!commitments[commitment], "commitment used");
        commitments[commitment] = true;
        emit Deposit(commitment, nextIndex, block.timestamp);
        nextIndex++;
    }

    // withdraw pays `to` the denomination less `fee` and the relayer `fee`,
    // each by an inner CALL (internal transfers).
    function withdraw(address payable to, bytes32 nullifierHash, address payable relayer, uint256 fee) external {
        require(fee <= denomination, "fee too high");
        require(!nullifierHashes[nullifierHash], "spent");
        nullifierHashes[nullifierHash] = true;
        (bool ok, ) = to.call{value: denomination - fee}("");
        require(ok, "payment failed");
        if (fee > 0) {
            (ok, ) = relayer.call{value: fee}("");
            require(ok, "fee failed");
        }
        emit Withdrawal(to, nullifierHash, relayer, fee);
    }
}
