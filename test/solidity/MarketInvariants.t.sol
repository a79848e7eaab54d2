// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Status, Request, UsageReport, Dispute, StoredReport} from "../../contracts/market/MarketTypes.sol";
import {ProviderRegistry} from "../../contracts/ProviderRegistry.sol";
import {MarketSetup} from "./utils/MarketSetup.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Drives the market through random sequences of every public action, as consumers,
/// providers, verifiers and strangers would, and keeps ghost books of what moved.
contract MarketHandler is MarketSetup {
    uint256 internal constant PROVIDERS = 2;
    uint256 internal constant CONSUMERS = 3;
    uint256 internal constant VERIFIERS = 3;

    address[PROVIDERS] internal providerAddrs;
    uint256[PROVIDERS] internal providerKeys;
    uint256[PROVIDERS] internal offerIds;
    uint256[CONSUMERS] internal consumerKeys;
    address[VERIFIERS] internal verifierAddrs;
    uint256[VERIFIERS] internal verifierKeys;

    uint256[] public ids;
    /// @notice Calls on a request that moved tokens out of the market (a payout). Must be <= 1.
    mapping(uint256 id => uint256) public payoutCalls;
    /// @notice The consumer's net token change over a request's life (negative: it paid).
    mapping(uint256 id => int256) public consumerNet;
    mapping(uint256 id => uint256) public escrowOf;
    mapping(uint256 id => uint256) public bondPosted;

    constructor() {
        _deployMarket();
        for (uint256 i; i < PROVIDERS; ++i) {
            providerAddrs[i] = address(uint160(0xB000 + i));
            providerKeys[i] = 0xB0B0 + i;
            offerIds[i] = _registerProvider(providerAddrs[i], providerKeys[i], uint8(i));
        }
        for (uint256 i; i < CONSUMERS; ++i) {
            consumerKeys[i] = 0xC0C0 + i;
            _fund(vm.addr(consumerKeys[i]), 1e30);
        }
        for (uint256 i; i < VERIFIERS; ++i) {
            verifierKeys[i] = 0xFEE0 + i;
            verifierAddrs[i] = vm.addr(verifierKeys[i]);
            _fund(verifierAddrs[i], 1_000 ether);
            vm.startPrank(verifierAddrs[i]);
            registry.register(verifierAddrs[i], 0, 2, 200 ether, "");
            registry.setVerifier(true);
            vm.stopPrank();
        }
    }

    function allIds() external view returns (uint256[] memory) {
        return ids;
    }

    function marketAddresses() external view returns (address, address, address) {
        return (address(market), address(registry), address(token));
    }

    function providers() external view returns (address[PROVIDERS] memory, address[VERIFIERS] memory) {
        return (providerAddrs, verifierAddrs);
    }

    // ---- actions ----

    function post(uint256 consumerSeed, uint64 maxFuel, uint96 maxPrice, uint96 maxFee, uint32 life) external {
        address consumer = vm.addr(consumerKeys[consumerSeed % CONSUMERS]);
        maxFuel = uint64(1 + (maxFuel % 1e12));
        maxPrice = uint96(maxPrice % 1e18);
        maxFee = uint96(maxFee % 1e18);
        uint40 deadline = uint40(block.timestamp + 61 + (life % 2 days));
        uint256 before = token.balanceOf(consumer);
        vm.prank(consumer);
        uint256 id = market.postRequest(_params(maxFuel, maxPrice, maxFee, deadline));
        ids.push(id);
        escrowOf[id] = (uint256(maxFuel) * maxPrice) / 1e6 + maxFee;
        consumerNet[id] += int256(token.balanceOf(consumer)) - int256(before);
    }

    function bid(uint256 idSeed, uint256 providerSeed, uint96 price, uint96 fee) external {
        (uint256 id, Request memory r, bool ok) = _pick(idSeed);
        if (!ok) return;
        uint256 p = providerSeed % PROVIDERS;
        price = uint96(1 + (price % (r.maxPricePerMFuel + 1)));
        fee = uint96(fee % (uint256(r.maxFee) + 1));
        vm.prank(providerAddrs[p]);
        try market.bid(id, offerIds[p], price, fee, bytes32(0)) {} catch {}
    }

    function close(uint256 idSeed) external {
        (uint256 id,, bool ok) = _pick(idSeed);
        if (!ok) return;
        _tracked(id, abi.encodeCall(market.closeAuction, (id)), address(this));
    }

    function accept(uint256 idSeed, uint256 providerSeed) external {
        (uint256 id, Request memory r, bool ok) = _pick(idSeed);
        if (!ok) return;
        _tracked(id, abi.encodeCall(market.acceptBid, (id, providerAddrs[providerSeed % PROVIDERS])), r.consumer);
    }

    function cancel(uint256 idSeed) external {
        (uint256 id, Request memory r, bool ok) = _pick(idSeed);
        if (!ok) return;
        _tracked(id, abi.encodeCall(market.cancelRequest, (id)), r.consumer);
    }

    function report(uint256 idSeed, uint64 fuel, bool cosign) external {
        (uint256 id, Request memory r, bool ok) = _pick(idSeed);
        if (!ok || r.status != Status.Awarded) return;
        UsageReport memory u = UsageReport(id, fuel % 2e12, 1, 1, 0, 0, keccak256(abi.encode(fuel)), 1, 1);
        uint256 hostKey = providerKeys[r.winner == providerAddrs[0] ? 0 : 1];
        bytes memory hostSig = _signReport(hostKey, u);
        if (cosign) {
            uint256 consumerKey = _consumerKey(r.consumer);
            bytes memory consumerSig = _signAcceptance(consumerKey, u);
            _tracked(id, abi.encodeCall(market.reportAndSettle, (u, hostSig, consumerSig)), address(this));
        } else {
            _tracked(id, abi.encodeCall(market.submitReport, (u, hostSig)), address(this));
        }
    }

    function settle(uint256 idSeed) external {
        (uint256 id,, bool ok) = _pick(idSeed);
        if (ok) _tracked(id, abi.encodeCall(market.settle, (id)), address(this));
    }

    function acceptReport(uint256 idSeed) external {
        (uint256 id, Request memory r, bool ok) = _pick(idSeed);
        if (ok) _tracked(id, abi.encodeCall(market.acceptReport, (id)), r.consumer);
    }

    function breach(uint256 idSeed) external {
        (uint256 id,, bool ok) = _pick(idSeed);
        if (ok) _tracked(id, abi.encodeCall(market.claimBreach, (id)), address(this));
    }

    function dispute(uint256 idSeed) external {
        (uint256 id, Request memory r, bool ok) = _pick(idSeed);
        if (!ok) return;
        if (_tracked(id, abi.encodeCall(market.openDispute, (id)), r.consumer)) bondPosted[id] = market.disputeBond();
    }

    function verdict(uint256 idSeed, uint256 verifierSeed, bool agree) external {
        (uint256 id, Request memory r, bool ok) = _pick(idSeed);
        if (!ok || r.status != Status.Disputed) return;
        uint256 v = verifierSeed % VERIFIERS;
        StoredReport memory rep = market.reportOf(id);
        uint64 fuel = rep.fuelUsed;
        bytes32 outputHash = rep.outputHash;
        if (!agree) outputHash = keccak256(abi.encode(outputHash));
        bytes memory sig = _signVerdict(verifierKeys[v], id, fuel, outputHash, 1);
        _tracked(id, abi.encodeCall(market.submitVerdict, (id, verifierAddrs[v], fuel, outputHash, 1, sig)), address(this));
    }

    function resolve(uint256 idSeed) external {
        (uint256 id,, bool ok) = _pick(idSeed);
        if (ok) _tracked(id, abi.encodeCall(market.resolveDispute, (id)), address(this));
    }

    function warp(uint32 seconds_) external {
        vm.warp(block.timestamp + (seconds_ % 3 hours));
    }

    // ---- plumbing ----

    function _pick(uint256 seed) private view returns (uint256 id, Request memory r, bool ok) {
        if (ids.length == 0) return (0, r, false);
        id = ids[seed % ids.length];
        r = market.request(id);
        ok = true;
    }

    function _consumerKey(address consumer) private view returns (uint256) {
        for (uint256 i; i < CONSUMERS; ++i) {
            if (vm.addr(consumerKeys[i]) == consumer) return consumerKeys[i];
        }
        revert("unknown consumer");
    }

    /// @dev Calls the market as `caller` and books what the call moved for request `id`.
    function _tracked(uint256 id, bytes memory data, address caller) private returns (bool success) {
        address consumer = market.request(id).consumer;
        uint256 marketBefore = token.balanceOf(address(market));
        uint256 consumerBefore = token.balanceOf(consumer);
        if (caller != address(this)) vm.prank(caller);
        (success,) = address(market).call(data);
        if (!success) return false;
        if (token.balanceOf(address(market)) < marketBefore) payoutCalls[id] += 1;
        consumerNet[id] += int256(token.balanceOf(consumer)) - int256(consumerBefore);
    }
}

/// @notice The market's money invariants, checked after every call of every random sequence.
contract MarketInvariantsTest {
    MarketHandler internal handler;

    function setUp() public {
        handler = new MarketHandler();
    }

    /// @notice The fuzzer calls only the handler's actions.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice The market holds exactly the escrows of live requests and agreements plus the
    /// bonds of open disputes; the registry holds exactly the stakes and unbonding amounts.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 64
    function invariant_tokensAreFullyAccountedFor() public view {
        (address marketAddr, address registryAddr, address tokenAddr) = _addresses();
        uint256[] memory ids = handler.allIds();
        uint256 owed;
        for (uint256 i; i < ids.length; ++i) {
            Status s = _market(marketAddr).request(ids[i]).status;
            if (s == Status.Open || s == Status.Awarded || s == Status.Reported || s == Status.Disputed) {
                owed += handler.escrowOf(ids[i]);
            }
            if (s == Status.Disputed) owed += _market(marketAddr).disputeOf(ids[i]).bond;
        }
        require(_balance(tokenAddr, marketAddr) == owed, "market balance == open escrows + bonds");

        (address[2] memory ps, address[3] memory vs) = handler.providers();
        uint256 staked;
        for (uint256 i; i < ps.length; ++i) staked += _stakeOf(registryAddr, ps[i]);
        for (uint256 i; i < vs.length; ++i) staked += _stakeOf(registryAddr, vs[i]);
        require(_balance(tokenAddr, registryAddr) == staked, "registry balance == stakes");
    }

    /// @notice No request or agreement is ever paid out twice.
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 64
    function invariant_noAgreementIsPaidTwice() public view {
        uint256[] memory ids = handler.allIds();
        for (uint256 i; i < ids.length; ++i) {
            require(handler.payoutCalls(ids[i]) <= 1, "paid out at most once");
        }
    }

    /// @notice A consumer never pays more than its escrow (plus a dispute bond it chose to risk).
    /// hardhat-config: invariant.runs = 48
    /// hardhat-config: invariant.depth = 64
    function invariant_consumerNeverPaysMoreThanEscrow() public view {
        uint256[] memory ids = handler.allIds();
        for (uint256 i; i < ids.length; ++i) {
            int256 net = handler.consumerNet(ids[i]);
            int256 limit = int256(handler.escrowOf(ids[i]) + handler.bondPosted(ids[i]));
            require(-net <= limit, "consumer paid at most escrow + bond");
        }
    }

    function _addresses() private view returns (address m, address r, address t) {
        return handler.marketAddresses();
    }

    function _market(address m) private pure returns (MarketView) {
        return MarketView(m);
    }

    function _balance(address t, address who) private view returns (uint256) {
        return BalanceView(t).balanceOf(who);
    }

    function _stakeOf(address r, address p) private view returns (uint256) {
        ProviderRegistry.Provider memory rec = ProviderRegistry(r).providerOf(p);
        return uint256(rec.stake) + rec.unbonding;
    }
}

interface MarketView {
    function request(uint256 id) external view returns (Request memory);
    function disputeOf(uint256 id) external view returns (Dispute memory);
}

interface BalanceView {
    function balanceOf(address who) external view returns (uint256);
}
