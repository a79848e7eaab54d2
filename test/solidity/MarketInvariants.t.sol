// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Status, Request, RequestParams, UsageReport, StoredReport, Ruling} from "../../contracts/market/MarketTypes.sol";
import {DisputeCourt} from "../../contracts/court/DisputeCourt.sol";
import {ClaimKeys} from "../../contracts/court/ClaimKeys.sol";
import {MarketSetup} from "./utils/MarketSetup.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Drives the market through random sequences of every public action, with an adversary
/// in the mix: a consumer and a provider that lie, dispute honest work and self-deal, Sybil
/// verifiers holding just under a third of the verifier stake that vote with them, late closers
/// and unbonding providers. The honest side follows the protocol: the honest provider reports the
/// truth in time, the honest consumer disputes only false reports, honest verifiers re-execute
/// and vote the truth, and whoever stands to lose from a wrong decision appeals it. Ghost books
/// record what every honest party was owed and what it got.
contract MarketHandler is MarketSetup {
    uint256 internal constant HONEST_VERIFIERS = 4;
    uint256 internal constant SYBILS = 2;

    // providers: 0 honest, 1 adversarial
    address[2] internal providerAddrs = [address(0xB000), address(0xB001)];
    uint256[2] internal hostKeys = [uint256(0xB0B0), uint256(0xB0B1)];
    uint256[2] internal offerIds;
    // consumers: 0 honest, 1 adversarial
    uint256[2] internal consumerKeys = [uint256(0xC0C0), uint256(0xC0C1)];
    address[HONEST_VERIFIERS + SYBILS] internal verifierAddrs;

    uint256[] public ids;
    /// @notice Calls on a request that moved tokens out of the market. Must be <= 1.
    mapping(uint256 id => uint256) public payoutCalls;
    /// @notice The consumer's net token change over a request's life (negative: it paid).
    mapping(uint256 id => int256) public consumerNet;
    /// @notice What the winner truly used on agreement `id` (the honest report).
    mapping(uint256 id => uint64) public trueFuel;
    /// @notice Set when an honest provider, consumer or verifier lost tokens it did not owe.
    string public honestLoss;
    uint256 public disputesJudged;
    uint256 public appealsHeard;

    constructor() {
        // a day to dispute: longer than a whole dispute game, so an honest consumer busy in one
        // dispute never misses the window of another
        _deployMarket(1 days);
        for (uint256 i; i < 2; ++i) offerIds[i] = _registerProvider(providerAddrs[i], hostKeys[i], uint8(i), 2_000 ether);
        for (uint256 i; i < 2; ++i) _fund(_consumer(i), 1e30);
        // honest verifiers hold 600, the Sybils 280: 32% of the pool
        for (uint256 i; i < HONEST_VERIFIERS + SYBILS; ++i) {
            verifierAddrs[i] = address(uint160(0xFEE0 + i));
            _fund(verifierAddrs[i], 1_000 ether);
            vm.prank(verifierAddrs[i]);
            court.stake(i < HONEST_VERIFIERS ? 150 ether : 140 ether);
        }
        vm.roll(block.number + 1);
    }

    function allIds() external view returns (uint256[] memory) {
        return ids;
    }

    function actors() external view returns (address[] memory all) {
        all = new address[](4 + verifierAddrs.length);
        all[0] = providerAddrs[0];
        all[1] = providerAddrs[1];
        all[2] = _consumer(0);
        all[3] = _consumer(1);
        for (uint256 i; i < verifierAddrs.length; ++i) all[4 + i] = verifierAddrs[i];
    }

    function contracts() external view returns (address, address, address, address) {
        return (address(token), address(market), address(registry), address(court));
    }

    // ---- actions ----

    function post(uint256 consumerSeed, uint64 maxFuel, uint96 maxPrice, uint96 maxFee, uint32 life, uint96 risk) external {
        uint256 c = consumerSeed % 3;
        // seed 2: the adversarial provider posts for itself, to bid on its own request
        address consumer = c == 2 ? providerAddrs[1] : _consumer(c);
        maxFuel = uint64(1e6 + (maxFuel % 1e12));
        maxPrice = uint96(1 + (maxPrice % 1e16));
        maxFee = uint96(maxFee % 1e17);
        uint40 deadline = uint40(block.timestamp + 661 + (life % 2 days));
        uint256 before = token.balanceOf(consumer);
        vm.prank(consumer);
        uint256 id = market.postRequest(_withRisk(_params(maxFuel, maxPrice, maxFee, deadline), risk % 1e20));
        ids.push(id);
        trueFuel[id] = uint64(uint256(keccak256(abi.encode(id))) % maxFuel);
        consumerNet[id] += int256(token.balanceOf(consumer)) - int256(before);
    }

    function bid(uint256 idSeed, uint256 providerSeed, uint96 price, uint96 fee) external {
        (uint256 id, Request memory r, bool ok) = _pickIn(idSeed, Status.Open);
        if (!ok) return;
        uint256 p = providerSeed % 2;
        price = uint96(1 + (price % r.maxPricePerMFuel));
        fee = uint96(fee % (uint256(r.maxFee) + 1));
        vm.prank(providerAddrs[p]);
        try market.bid(id, offerIds[p], price, fee, bytes32(0)) {
            if (r.consumer == providerAddrs[p]) honestLoss = "a provider bid on its own request";
        } catch {}
    }

    /// @notice Closes an auction now, or (a late closer) just before the request's deadline.
    function close(uint256 idSeed, bool late) external {
        (uint256 id, Request memory r, bool ok) = _pickIn(idSeed, Status.Open);
        if (!ok) return;
        _honestSideActs();
        if (late && r.deadline > block.timestamp + 1) vm.warp(r.deadline - 1);
        else if (block.timestamp < r.bidWindowEnd) vm.warp(r.bidWindowEnd);
        _tracked(id, abi.encodeCall(market.closeAuction, (id)), address(this));
    }

    function accept(uint256 idSeed, uint256 providerSeed) external {
        (uint256 id, Request memory r, bool ok) = _pickIn(idSeed, Status.Open);
        if (ok) _tracked(id, abi.encodeCall(market.acceptBid, (id, providerAddrs[providerSeed % 2])), r.consumer);
    }

    function cancel(uint256 idSeed) external {
        (uint256 id, Request memory r, bool ok) = _pick(idSeed);
        if (ok) _tracked(id, abi.encodeCall(market.cancelRequest, (id)), r.consumer);
    }

    /// @notice The winner reports: the honest provider the truth, the adversary the truth, an
    /// inflated fuel, or a false "content unavailable", by `lie`.
    function report(uint256 idSeed, uint8 lie, bool cosign) external {
        (uint256 id, Request memory r, bool ok) = _pickIn(idSeed, Status.Awarded);
        if (!ok || block.timestamp > r.deadline) return;
        bool honestHost = r.winner == providerAddrs[0];
        uint8 kind = honestHost ? 0 : lie % 3;
        UsageReport memory u = _report(id, kind == 0 ? trueFuel[id] : kind == 1 ? r.maxFuel : 0, kind == 2);
        bytes memory hostSig = _signReport(hostKeys[honestHost ? 0 : 1], u);
        // only a report its consumer knows to be true gets a co-signature (the adversary co-signs anything)
        bool consumerSigns = cosign && (kind == 0 || r.consumer != _consumer(0)) && r.consumer != providerAddrs[1];
        if (consumerSigns) {
            bytes memory consumerSig = _signAcceptance(_consumerKey(r.consumer), u);
            _tracked(id, abi.encodeCall(market.reportAndSettle, (u, hostSig, consumerSig)), address(this));
        } else {
            _tracked(id, abi.encodeCall(market.submitReport, (u, hostSig)), address(this));
        }
    }

    function settle(uint256 idSeed) external {
        (uint256 id,, bool ok) = _pickIn(idSeed, Status.Reported);
        if (ok) _tracked(id, abi.encodeCall(market.settle, (id)), address(this));
    }

    function breach(uint256 idSeed) external {
        (uint256 id,, bool ok) = _pickIn(idSeed, Status.Awarded);
        if (ok) _tracked(id, abi.encodeCall(market.claimBreach, (id)), address(this));
    }

    /// @notice The consumer disputes a report (the honest one only a false report, the adversary
    /// anything) and the dispute is played to its end: the honest verifiers are live and vote the
    /// truth; the Sybils vote the adversary's claim, or stay silent; a wrong decision is appealed by
    /// whoever it would hurt; the adversary appeals a right one when `adversaryAppeals`.
    function dispute(uint256 idSeed, bool sybilsSilent, bool adversaryAppeals) external {
        (uint256 id, Request memory r, bool ok) = _pickIn(idSeed, Status.Reported);
        if (!ok) return;
        if (r.consumer == _consumer(0) && _reportIsTrue(id)) return;
        _disputeAndJudge(id, r, sybilsSilent, adversaryAppeals);
    }

    function _disputeAndJudge(uint256 id, Request memory r, bool sybilsSilent, bool adversaryAppeals) private {
        if (!_tracked(id, abi.encodeCall(market.openDispute, (id)), r.consumer)) return;
        bytes32 truth = ClaimKeys.keyOf(trueFuel[id], _trueOutput(id));
        bytes32 lie = _adversaryClaim(id);
        for (uint256 guard; guard < 4; ++guard) {
            DisputeCourt.Case memory c = court.caseOf(id);
            if (c.ruling != Ruling.None) break;
            uint8 round = c.round;
            _vote(id, round, lie, sybilsSilent);
            uint256 marketBefore = token.balanceOf(address(market));
            uint256 consumerBefore = token.balanceOf(r.consumer);
            court.tallyRound(id);
            if (token.balanceOf(address(market)) < marketBefore) payoutCalls[id] += 1;
            consumerNet[id] += int256(token.balanceOf(r.consumer)) - int256(consumerBefore);
            c = court.caseOf(id);
            if (c.ruling != Ruling.None || c.round != round) continue; // closed, or escalated by itself
            DisputeCourt.Round memory rd = court.roundOf(id, round);
            bool wrong = rd.decidedKey != truth;
            if (wrong || adversaryAppeals) {
                address appellant = wrong ? _honestAppellant(r) : _adversary();
                uint256 before = token.balanceOf(r.consumer);
                vm.prank(appellant);
                court.appeal(id);
                consumerNet[id] += int256(token.balanceOf(r.consumer)) - int256(before);
                appealsHeard += 1;
            } else {
                _honestHostsReport();
                vm.warp(rd.appealDeadline + 1);
                _tracked(id, abi.encodeCall(court.closeCase, (id)), address(this), address(court));
            }
        }
        disputesJudged += 1;
        _claimAll(id);
    }

    function unbond(uint256 providerSeed, uint96 amount) external {
        address p = providerAddrs[providerSeed % 2];
        vm.prank(p);
        try registry.requestUnbond(uint96(1 + amount % 3_000 ether)) {} catch {}
    }

    function withdrawUnbonded(uint256 providerSeed) external {
        vm.prank(providerAddrs[providerSeed % 2]);
        try registry.withdrawUnbonded() {} catch {}
    }

    function sybilLeaves(uint256 seed, uint96 amount) external {
        vm.prank(verifierAddrs[HONEST_VERIFIERS + seed % SYBILS]);
        try court.requestLeave(uint96(1 + amount % 100 ether)) {} catch {}
    }

    function warp(uint32 seconds_) external {
        _honestSideActs();
        vm.warp(block.timestamp + (seconds_ % 3 hours));
        vm.roll(block.number + 1);
    }

    // ---- the honest side's protocol ----

    /// @dev Before time passes, the honest side does what it must in time: the honest host
    /// reports every agreement it holds, the honest consumer disputes every false report.
    function _honestSideActs() private {
        _honestHostsReport();
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            Request memory r = market.request(id);
            if (r.status == Status.Reported && r.consumer == _consumer(0) && !_reportIsTrue(id)) {
                _disputeAndJudge(id, r, false, false);
            }
        }
    }

    /// @dev The honest host reports every agreement it holds before time can run out on it.
    function _honestHostsReport() private {
        for (uint256 i; i < ids.length; ++i) {
            uint256 id = ids[i];
            Request memory r = market.request(id);
            if (r.status == Status.Awarded && r.winner == providerAddrs[0] && block.timestamp <= r.deadline) {
                UsageReport memory u = _report(id, trueFuel[id], false);
                _tracked(id, abi.encodeCall(market.submitReport, (u, _signReport(hostKeys[0], u))), address(this));
            }
        }
    }

    function _vote(uint256 id, uint8 round, bytes32 lie, bool sybilsSilent) private {
        _honestHostsReport();
        bool fullCourt = round == court.sampledRounds();
        DisputeCourt.Round memory rd = court.roundOf(id, round);
        if (rd.drawBlock != 0) {
            _draw(id);
            rd = court.roundOf(id, round);
        }
        for (uint256 i; i < verifierAddrs.length; ++i) {
            address v = verifierAddrs[i];
            if (!fullCourt && court.ballotOf(id, round, v).votes == 0) continue;
            bool sybil = i >= HONEST_VERIFIERS;
            if (sybil && sybilsSilent) continue;
            (uint64 fuel, bytes32 output) = sybil ? _claimOf(id, lie) : (trueFuel[id], _trueOutput(id));
            bytes32 commitment = court.verdictDigest(v, id, round, fuel, output, bytes32(i));
            vm.prank(v);
            try court.commitVerdict(id, commitment) {} catch {}
        }
        vm.warp(rd.commitDeadline + 1);
        for (uint256 i; i < verifierAddrs.length; ++i) {
            address v = verifierAddrs[i];
            if (!court.ballotOf(id, round, v).committed) continue;
            bool sybil = i >= HONEST_VERIFIERS;
            (uint64 fuel, bytes32 output) = sybil ? _claimOf(id, lie) : (trueFuel[id], _trueOutput(id));
            vm.prank(v);
            court.revealVerdict(id, fuel, output, bytes32(i));
        }
        vm.warp(rd.revealDeadline + 1);
    }

    function _draw(uint256 id) private {
        DisputeCourt.Case memory c = court.caseOf(id);
        DisputeCourt.Round memory rd = court.roundOf(id, c.round);
        if (rd.drawBlock == 0) return;
        vm.roll(block.number + 1);
        vm.setBlockhash(rd.drawBlock, keccak256(abi.encode("block", rd.drawBlock, id, c.round, block.timestamp)));
        court.drawPanel(id);
    }

    function _claimAll(uint256 id) private {
        DisputeCourt.Case memory c = court.caseOf(id);
        if (c.ruling == Ruling.None) return;
        for (uint8 round; round <= c.round; ++round) {
            for (uint256 i; i < verifierAddrs.length; ++i) {
                address v = verifierAddrs[i];
                DisputeCourt.Ballot memory b = court.ballotOf(id, round, v);
                if (b.locked == 0 || b.claimed) continue;
                uint96 stakeBefore = court.verifierOf(v).stake;
                court.claimBallot(id, round, v);
                if (i < HONEST_VERIFIERS && court.verifierOf(v).stake < stakeBefore) honestLoss = "an honest verifier was slashed";
            }
        }
    }

    /// @dev Who appeals a wrong decision: the honest party if there is one, else an honest verifier.
    function _honestAppellant(Request memory r) private view returns (address) {
        if (r.winner == providerAddrs[0]) return providerAddrs[0];
        if (r.consumer == _consumer(0)) return r.consumer;
        return verifierAddrs[0];
    }

    function _adversary() private view returns (address) {
        return _consumer(1);
    }

    /// @dev What the Sybils vote for: the false report when the adversary reported, a made-up
    /// claim when the adversary disputed an honest report.
    function _adversaryClaim(uint256 id) private view returns (bytes32) {
        StoredReport memory rep = market.reportOf(id);
        if (_reportIsTrue(id)) return ClaimKeys.keyOf(1, keccak256("made up"));
        return rep.unavailable ? ClaimKeys.unavailable() : ClaimKeys.keyOf(rep.fuelUsed, rep.outputHash);
    }

    function _claimOf(uint256 id, bytes32 key) private view returns (uint64, bytes32) {
        StoredReport memory rep = market.reportOf(id);
        if (key == ClaimKeys.unavailable()) return (0, ClaimKeys.UNAVAILABLE_OUTPUT);
        if (key == ClaimKeys.keyOf(rep.fuelUsed, rep.outputHash)) return (rep.fuelUsed, rep.outputHash);
        return (1, keccak256("made up"));
    }

    function _reportIsTrue(uint256 id) private view returns (bool) {
        StoredReport memory rep = market.reportOf(id);
        return !rep.unavailable && rep.fuelUsed == trueFuel[id] && rep.outputHash == _trueOutput(id);
    }

    function _report(uint256 id, uint64 fuel, bool unavailable) private pure returns (UsageReport memory) {
        return UsageReport(id, fuel, 1, 1, unavailable ? 6 : 0, 0, unavailable ? keccak256("no content") : _trueOutput(id), 1, 1);
    }

    function _trueOutput(uint256 id) private pure returns (bytes32) {
        return keccak256(abi.encode("output", id));
    }

    function _withRisk(RequestParams memory p, uint96 risk) private pure returns (RequestParams memory) {
        p.valueAtRisk = risk;
        return p;
    }

    // ---- plumbing ----

    function _consumer(uint256 i) private view returns (address) {
        return vm.addr(consumerKeys[i]);
    }

    function _consumerKey(address consumer) private view returns (uint256) {
        return consumer == _consumer(0) ? consumerKeys[0] : consumerKeys[1];
    }

    function _pick(uint256 seed) private view returns (uint256 id, Request memory r, bool ok) {
        if (ids.length == 0) return (0, r, false);
        id = ids[seed % ids.length];
        r = market.request(id);
        ok = true;
    }

    /// @dev The first request at or after `seed` (cyclically) in `status`.
    function _pickIn(uint256 seed, Status status) private view returns (uint256 id, Request memory r, bool ok) {
        uint256 n = ids.length;
        for (uint256 k; k < n; ++k) {
            id = ids[(seed + k) % n];
            r = market.request(id);
            if (r.status == status) return (id, r, true);
        }
    }

    function _tracked(uint256 id, bytes memory data, address caller) private returns (bool) {
        return _tracked(id, data, caller, address(market));
    }

    /// @dev Calls `target` as `caller` and books what the call moved for request `id`.
    function _tracked(uint256 id, bytes memory data, address caller, address target) private returns (bool success) {
        address consumer = market.request(id).consumer;
        uint256 marketBefore = token.balanceOf(address(market));
        uint256 consumerBefore = token.balanceOf(consumer);
        uint96 honestStake = registry.providerOf(providerAddrs[0]).stake;
        if (caller != address(this)) vm.prank(caller);
        (success,) = target.call(data);
        if (!success) return false;
        if (token.balanceOf(address(market)) < marketBefore) payoutCalls[id] += 1;
        consumerNet[id] += int256(token.balanceOf(consumer)) - int256(consumerBefore);
        if (registry.providerOf(providerAddrs[0]).stake < honestStake) honestLoss = "the honest provider was slashed";
    }
}

/// @notice The market's money and honesty invariants, checked after every call of every random sequence.
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

    /// @notice Every token is somewhere known: the market holds exactly the escrows of live
    /// requests and agreements, the registry exactly the providers' stakes, the court exactly its
    /// verifiers' stakes plus the bonds of open cases; nothing is created or destroyed.
    /// hardhat-config: invariant.runs = 32
    /// hardhat-config: invariant.depth = 48
    function invariant_tokensAreConserved() public view {
        (address t, address m, address r, address c) = handler.contracts();
        uint256[] memory ids = handler.allIds();
        uint256 escrows;
        uint256 bonds;
        for (uint256 i; i < ids.length; ++i) {
            Request memory q = IMarketView(m).request(ids[i]);
            Status s = q.status;
            if (s == Status.Open || s == Status.Awarded || s == Status.Reported || s == Status.Disputed) {
                escrows += (uint256(q.maxFuel) * q.maxPricePerMFuel) / 1e6 + q.maxFee;
            }
            if (s == Status.Disputed) bonds += _openBonds(c, ids[i]);
        }
        require(IERC20View(t).balanceOf(m) == escrows, "market balance == live escrows");

        address[] memory actors = handler.actors();
        uint256 staked;
        uint256 pooled;
        uint256 held;
        for (uint256 i; i < actors.length; ++i) {
            IRegistryView.Provider memory p = IRegistryView(r).providerOf(actors[i]);
            staked += uint256(p.stake) + p.unbonding;
            ICourtView.Verifier memory v = ICourtView(c).verifierOf(actors[i]);
            pooled += uint256(v.stake) + v.leaving;
            held += IERC20View(t).balanceOf(actors[i]);
        }
        require(IERC20View(t).balanceOf(r) == staked, "registry balance == stakes");
        require(IERC20View(t).balanceOf(c) == pooled + bonds, "court balance == verifier stakes + open bonds");
        require(
            held + IERC20View(t).balanceOf(m) + IERC20View(t).balanceOf(r) + IERC20View(t).balanceOf(c)
                == IERC20View(t).totalSupply(),
            "no token created or destroyed"
        );
    }

    /// @notice No request or agreement is ever paid out twice.
    /// hardhat-config: invariant.runs = 32
    /// hardhat-config: invariant.depth = 48
    function invariant_noAgreementIsPaidTwice() public view {
        uint256[] memory ids = handler.allIds();
        for (uint256 i; i < ids.length; ++i) require(handler.payoutCalls(ids[i]) <= 1, "paid out at most once");
    }

    /// @notice With the adversary under a third of the verifier stake, no honest party loses
    /// tokens it did not owe: the honest provider is never slashed, honest verifiers are never
    /// slashed, and the honest consumer never pays more for a finished job than its true usage.
    /// hardhat-config: invariant.runs = 32
    /// hardhat-config: invariant.depth = 48
    function invariant_noHonestPartyLoses() public view {
        require(bytes(handler.honestLoss()).length == 0, handler.honestLoss());
        (, address m,,) = handler.contracts();
        address honestConsumer = handler.actors()[2];
        uint256[] memory ids = handler.allIds();
        for (uint256 i; i < ids.length; ++i) {
            Request memory q = IMarketView(m).request(ids[i]);
            if (q.consumer != honestConsumer) continue;
            Status s = q.status;
            if (s == Status.Open || s == Status.Awarded || s == Status.Reported || s == Status.Disputed) continue;
            int256 owed;
            if (s == Status.Settled) {
                IMarketView.BidView memory b = IMarketView(m).bidOf(ids[i], q.winner);
                uint256 fuel = handler.trueFuel(ids[i]);
                owed = int256((fuel * b.pricePerMFuel) / 1e6 + b.fee);
            }
            require(-handler.consumerNet(ids[i]) <= owed, "the honest consumer paid only for its true usage");
        }
    }

    function _openBonds(address c, uint256 id) private view returns (uint256 sum) {
        uint8 rounds = ICourtView(c).caseOf(id).round;
        for (uint8 r; r <= rounds; ++r) sum += ICourtView(c).roundOf(id, r).bond;
    }
}

interface IMarketView {
    struct BidView {
        uint96 pricePerMFuel;
        uint96 fee;
        uint32 offerId;
        uint16 failureBps;
    }

    function request(uint256 id) external view returns (Request memory);
    function bidOf(uint256 id, address provider) external view returns (BidView memory);
}

interface IRegistryView {
    struct Provider {
        address hostKey;
        uint96 stake;
        uint96 exposure;
        uint96 completedValue;
        uint32 openAgreements;
        uint32 completed;
        uint96 failedValue;
        uint32 breached;
        uint32 disputesWon;
        uint32 disputesLost;
        uint8 tier;
        uint16 region;
        uint96 unbonding;
        uint40 unbondReadyAt;
    }

    function providerOf(address provider) external view returns (Provider memory);
}

interface ICourtView {
    struct Verifier {
        uint96 stake;
        uint96 locked;
        uint32 position;
        uint96 leaving;
        uint40 leaveReadyAt;
        uint64 stakedAtBlock;
    }

    function verifierOf(address verifier) external view returns (Verifier memory);
    function caseOf(uint256 id) external view returns (DisputeCourt.Case memory);
    function roundOf(uint256 id, uint8 round) external view returns (DisputeCourt.Round memory);
}

interface IERC20View {
    function balanceOf(address who) external view returns (uint256);
    function totalSupply() external view returns (uint256);
}
