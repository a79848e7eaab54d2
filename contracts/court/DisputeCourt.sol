// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IVerifierCourt, IDisputedMarket} from "../interfaces/IVerifierCourt.sol";
import {Ruling} from "../market/MarketTypes.sol";
import {ClaimKeys} from "./ClaimKeys.sol";
import {SortitionTree} from "./SortitionTree.sol";
import {VerifierStaking} from "./VerifierStaking.sol";

/// @title DisputeCourt
/// @notice The dispute game of a disputed usage report, in rounds:
///
/// 1. **Draw.** A sampled round draws `panelSize(round)` seats from the verifier pool, weighted by
///    stake and with replacement (a verifier drawn twice votes twice), from the hash of the block
///    in which the round opened, read lazily by whoever calls `drawPanel` afterwards. The parties
///    (consumer, provider, the provider's host key and agents) are never drawn; a verifier
///    without `seatStake` unlocked is skipped. Each seat locks `seatStake`.
/// 2. **Commit.** Drawn verifiers re-execute the job and commit the EIP-712 digest of
///    `Verdict(verifier, agreementId, round, fuelUsed, outputHash, salt)`: it names the verifier
///    and the court's domain, so no one can copy a verdict or replay it as their own.
/// 3. **Reveal.** After the commit window (or once every seat committed) they reveal. A claim
///    that holds more than half the round's seats decides the round; silent seats count against
///    every claim, so a thin turnout decides nothing.
/// 4. **Appeal.** Anyone may appeal a decided round within `appealWindow` — the party that lost
///    it, or a verifier a wrong decision would slash — posting twice the previous bond; a round
///    with no majority escalates by itself. Each sampled round is
///    larger (n, 2n+1, 4n+3, …). The last round is the **full court**: every verifier whose stake
///    predates the round may vote with its stake as weight (putting `courtLockBps` of it at
///    risk, as far as it is not locked elsewhere); a claim wins with more than half of the
///    revealed stake, provided at least half the eligible stake revealed. An adversary under half
///    the stake can therefore never win the last round against verifiers who all take part, however
///    many other cases it opened to lock their stake.
/// 5. **Ruling.** Only the last round's decision counts: the report's claim → Upheld; "content
///    unavailable" against a normal report → ContentWithheld; any other claim → Overturned; no
///    majority in the last round → Void. The market pays out by it.
/// 6. **Coherence.** Every ballot of every round is judged against the final claim: seats that
///    revealed it get back their lock plus a share (by locked stake) of the reward pool; seats that
///    revealed another claim or never revealed lose their lock to that pool. A bond comes back
///    when the final ruling bears out what it challenged (the consumer's dispute: the report
///    fell; an appeal: the final claim differs from the decision appealed) and is forfeited
///    otherwise; a losing provider also forfeits its verification fee. The pool gets half of what
///    is forfeited, the winning party the other half. On Void, revealing is coherent and only
///    silence is slashed, and every bond goes back.
abstract contract DisputeCourt is VerifierStaking, EIP712, IVerifierCourt {
    using SafeERC20 for IERC20;
    using SortitionTree for SortitionTree.Tree;

    /// @notice The court's game parameters.
    struct Params {
        uint8 panel; // seats of the first round (odd)
        uint8 sampledRounds; // rounds drawn before the full court
        uint96 seatStake; // stake a seat locks
        uint40 commitWindow; // seconds from the draw to commit
        uint40 revealWindow; // seconds after the commit window to reveal
        uint40 appealWindow; // seconds after a decided round to appeal it
        uint16 courtLockBps; // share of its weight a full-court ballot locks
    }

    /// @dev A case: six slots.
    struct Case {
        address consumer;
        uint8 round; // the current round
        Ruling ruling; // None until closed
        bool unavailable; // the report said the consumer's content could not be fetched
        address provider;
        uint96 baseBond;
        address hostKey;
        uint96 rewardPool; // left to share among coherent ballots
        bytes32 reportKey;
        uint96 coherentLocked; // stake of the coherent ballots not yet claimed
        bytes32 finalKey; // the final claim (zero on Void)
    }

    /// @dev A round of a case.
    struct Round {
        uint64 drawBlock; // a sampled round's randomness: this block's hash; zero once drawn
        uint64 openedBlock;
        uint40 commitDeadline; // zero until the panel is drawn
        uint40 revealDeadline;
        uint40 appealDeadline; // set once the round is decided
        bool tallied;
        uint96 totalVotes; // seats, or the eligible stake of the full court
        uint96 committedVotes;
        uint96 revealedVotes;
        uint96 leadingVotes;
        uint96 totalLocked;
        uint96 revealedLocked;
        bytes32 leadingKey;
        bytes32 decidedKey; // zero: not decided
        address appellant; // who opened the round: the disputing consumer, then each appellant
        uint96 bond; // what the appellant posted
    }

    /// @dev A verifier's ballot in one round of one case.
    struct Ballot {
        uint96 votes;
        uint96 locked;
        bool committed;
        bool revealed;
        bool claimed;
        bytes32 commitment;
        bytes32 key;
    }

    uint256 internal constant BPS = 10_000;
    /// @notice The EIP-712 type a verifier commits to.
    bytes32 public constant VERDICT_TYPEHASH = keccak256(
        "Verdict(address verifier,uint256 agreementId,uint8 round,uint64 fuelUsed,bytes32 outputHash,bytes32 salt)"
    );
    /// @notice The output hash a verdict names when the consumer's content could not be fetched.
    bytes32 public constant UNAVAILABLE_OUTPUT = ClaimKeys.UNAVAILABLE_OUTPUT;

    /// @notice The provider registry (whose parties and agents are excluded from their own cases).
    IProviderRegistry public immutable registry;
    /// @notice Seats of the first round.
    uint8 public immutable panel;
    /// @notice Sampled rounds before the full court.
    uint8 public immutable sampledRounds;
    /// @notice Stake a seat locks.
    uint96 public immutable seatStake;
    /// @notice Seconds from the draw to commit.
    uint40 public immutable commitWindow;
    /// @notice Seconds after the commit window to reveal.
    uint40 public immutable revealWindow;
    /// @notice Seconds after a decided round to appeal it.
    uint40 public immutable appealWindow;
    /// @notice Share of its weight a full-court ballot locks, in basis points.
    uint16 public immutable courtLockBps;
    /// @notice The market whose disputes this court judges.
    address public market;
    address private immutable _deployer;

    mapping(uint256 id => Case) internal _cases;
    mapping(uint256 id => mapping(uint256 round => Round)) internal _rounds;
    mapping(uint256 id => mapping(uint256 round => mapping(bytes32 key => uint96))) internal _votesFor;
    mapping(uint256 id => mapping(uint256 round => mapping(bytes32 key => uint96))) internal _lockedFor;
    mapping(uint256 id => mapping(uint256 round => mapping(address verifier => Ballot))) internal _ballots;

    /// @notice The market contract was bound.
    event MarketBound(address indexed market);
    /// @notice The case of disputed agreement `id` opened with the consumer's `bond`.
    event CaseOpened(uint256 indexed id, address indexed consumer, address indexed provider, bytes32 reportKey, uint256 bond);
    /// @notice Round `round` of case `id` opened with `seats` to fill (zero: the full court).
    event RoundOpened(uint256 indexed id, uint8 round, uint256 seats, uint64 drawBlock);
    /// @notice The draw of round `round` was rescheduled: its block's hash is no longer readable.
    event DrawRescheduled(uint256 indexed id, uint8 round, uint64 drawBlock);
    /// @notice `verifier` was drawn onto a seat of round `round` of case `id`.
    event VerifierDrawn(uint256 indexed id, uint8 round, address indexed verifier);
    /// @notice The panel of round `round` was drawn (or the full court convened).
    event PanelDrawn(uint256 indexed id, uint8 round, uint256 seats, uint40 commitDeadline, uint40 revealDeadline);
    /// @notice `verifier` committed a sealed verdict carrying `votes`.
    event VerdictCommitted(uint256 indexed id, uint8 round, address indexed verifier, uint256 votes);
    /// @notice `verifier` revealed its verdict.
    event VerdictRevealed(
        uint256 indexed id, uint8 round, address indexed verifier, uint64 fuelUsed, bytes32 outputHash, uint256 votes
    );
    /// @notice Round `round` was counted; `decidedKey` is zero when no claim had a majority.
    event RoundTallied(
        uint256 indexed id,
        uint8 round,
        bytes32 decidedKey,
        uint256 leadingVotes,
        uint256 revealedVotes,
        uint256 totalVotes,
        uint40 appealDeadline
    );
    /// @notice `appellant` appealed round `round - 1`, posting `bond`.
    event Appealed(uint256 indexed id, uint8 round, address indexed appellant, uint256 bond);
    /// @notice Case `id` closed with `ruling`.
    event CaseClosed(
        uint256 indexed id,
        Ruling ruling,
        bytes32 finalKey,
        uint256 forfeited,
        uint256 slashedStake,
        uint256 rewardPool,
        uint256 winnerPayout
    );
    /// @notice `verifier`'s ballot of round `round` was settled: `amount` gained if coherent, lost if not.
    event BallotClaimed(uint256 indexed id, uint8 round, address indexed verifier, bool coherent, uint256 amount);

    /// @notice The caller is not the deployer binding the market, or the market is bound already.
    error MarketAlreadyBound();
    /// @notice Only the bound market may call this.
    error NotMarket(address caller);
    /// @notice A constructor parameter is unusable; `reason` names it.
    error InvalidParameter(string reason);
    /// @notice Case `id` is not open (or not in the phase this call needs); `reason` says which.
    error WrongPhase(uint256 id, string reason);
    /// @notice `verifier` holds no seat, or may not vote, in this round of case `id`.
    error NotOnPanel(uint256 id, address verifier);
    /// @notice The revealed verdict does not match the commitment.
    error RevealMismatch(uint256 id, address verifier);
    /// @notice The ballot was claimed already, or there is none.
    error NothingToClaim(uint256 id, uint8 round, address verifier);

    modifier onlyMarket() {
        if (msg.sender != market) revert NotMarket(msg.sender);
        _;
    }

    constructor(IProviderRegistry registry_, Params memory p) EIP712("Troupe Court", "1") {
        if (p.panel == 0 || p.panel % 2 == 0) revert InvalidParameter("panel");
        if (p.sampledRounds > 5) revert InvalidParameter("sampledRounds");
        if (p.seatStake == 0 || p.seatStake > minVerifierStake) revert InvalidParameter("seatStake");
        if (p.courtLockBps == 0 || p.courtLockBps > BPS) revert InvalidParameter("courtLockBps");
        if (p.commitWindow == 0 || p.revealWindow == 0) revert InvalidParameter("window");
        registry = registry_;
        panel = p.panel;
        sampledRounds = p.sampledRounds;
        seatStake = p.seatStake;
        commitWindow = p.commitWindow;
        revealWindow = p.revealWindow;
        appealWindow = p.appealWindow;
        courtLockBps = p.courtLockBps;
        _deployer = msg.sender;
    }

    /// @notice Binds the market contract, once, by the deployer.
    function bindMarket(address market_) external {
        if (msg.sender != _deployer || market != address(0)) revert MarketAlreadyBound();
        market = market_;
        emit MarketBound(market_);
    }

    /// @inheritdoc IVerifierCourt
    function openCase(
        uint256 id,
        address consumer,
        address provider,
        address hostKey,
        bytes32 reportKey,
        bool unavailable,
        uint256 bond
    ) external onlyMarket {
        Case storage c = _cases[id];
        c.consumer = consumer;
        c.provider = provider;
        c.hostKey = hostKey;
        c.reportKey = reportKey;
        c.unavailable = unavailable;
        // Casting is safe: the bond is the market's uint96 `disputeBond`.
        // forge-lint: disable-next-line(unsafe-typecast)
        c.baseBond = uint96(bond);
        emit CaseOpened(id, consumer, provider, reportKey, bond);
        _openRound(id, c, 0, consumer, uint96(bond));
    }

    /// @notice Draws the panel of the current round of case `id` from the hash of the block it
    /// opened in. Anyone may call, from the next block on.
    function drawPanel(uint256 id) external {
        Case storage c = _cases[id];
        uint8 round = c.round;
        Round storage rd = _rounds[id][round];
        if (rd.drawBlock == 0 || c.ruling != Ruling.None) revert WrongPhase(id, "no draw pending");
        if (block.number <= rd.drawBlock) revert WrongPhase(id, "draw block not yet mined");
        bytes32 blockHash = blockhash(rd.drawBlock);
        if (blockHash == bytes32(0)) {
            // More than 256 blocks passed: the hash is gone, so draw from a block yet to come.
            rd.drawBlock = uint64(block.number);
            emit DrawRescheduled(id, round, rd.drawBlock);
            return;
        }
        uint256 seats = _drawSeats(id, c, round, keccak256(abi.encode(blockHash, address(this), id, round)));
        rd.drawBlock = 0;
        pendingDraws -= 1;
        // Casting is safe: seats <= panelSize, far below 2^96.
        // forge-lint: disable-next-line(unsafe-typecast)
        rd.totalVotes = uint96(seats);
        rd.totalLocked = uint96(seats * seatStake);
        _startVoting(id, round, rd, seats);
    }

    /// @notice Commits a sealed verdict for the current round of case `id`: the digest
    /// `verdictDigest(msg.sender, id, round, fuelUsed, outputHash, salt)`.
    function commitVerdict(uint256 id, bytes32 commitment) external {
        Case storage c = _cases[id];
        uint8 round = c.round;
        Round storage rd = _rounds[id][round];
        if (c.ruling != Ruling.None || rd.commitDeadline == 0 || block.timestamp > rd.commitDeadline) {
            revert WrongPhase(id, "not committing");
        }
        Ballot storage b = _ballots[id][round][msg.sender];
        if (b.committed) revert NotOnPanel(id, msg.sender);
        if (round == sampledRounds) _enrolInFullCourt(id, c, rd, b);
        else if (b.votes == 0) revert NotOnPanel(id, msg.sender);
        b.committed = true;
        b.commitment = commitment;
        rd.committedVotes += b.votes;
        emit VerdictCommitted(id, round, msg.sender, b.votes);
    }

    /// @notice Reveals the verdict committed for the current round of case `id`.
    /// @param fuelUsed the fuel the verifier measured (0 if the content could not be fetched)
    /// @param outputHash the output hash it got (`UNAVAILABLE_OUTPUT` if the content could not be fetched)
    /// @param salt the commitment's salt
    function revealVerdict(uint256 id, uint64 fuelUsed, bytes32 outputHash, bytes32 salt) external {
        Case storage c = _cases[id];
        uint8 round = c.round;
        Round storage rd = _rounds[id][round];
        bool allCommitted = round < sampledRounds && rd.committedVotes == rd.totalVotes;
        if (
            c.ruling != Ruling.None || rd.tallied || rd.commitDeadline == 0
                || (block.timestamp <= rd.commitDeadline && !allCommitted) || block.timestamp > rd.revealDeadline
        ) revert WrongPhase(id, "not revealing");
        Ballot storage b = _ballots[id][round][msg.sender];
        if (!b.committed || b.revealed) revert NotOnPanel(id, msg.sender);
        if (b.commitment != verdictDigest(msg.sender, id, round, fuelUsed, outputHash, salt)) {
            revert RevealMismatch(id, msg.sender);
        }
        bytes32 key = ClaimKeys.keyOf(fuelUsed, outputHash);
        b.revealed = true;
        b.key = key;
        uint96 votes = _votesFor[id][round][key] + b.votes;
        _votesFor[id][round][key] = votes;
        _lockedFor[id][round][key] += b.locked;
        rd.revealedVotes += b.votes;
        rd.revealedLocked += b.locked;
        if (votes > rd.leadingVotes) {
            rd.leadingVotes = votes;
            rd.leadingKey = key;
        }
        emit VerdictRevealed(id, round, msg.sender, fuelUsed, outputHash, b.votes);
    }

    /// @notice Counts the current round of case `id` once its reveal window has passed (or every
    /// seat of a sampled round revealed). Anyone may call. A decided round waits for an appeal; a
    /// round with no majority escalates; the last round closes the case.
    function tallyRound(uint256 id) external nonReentrant {
        Case storage c = _cases[id];
        uint8 round = c.round;
        Round storage rd = _rounds[id][round];
        bool allRevealed = round < sampledRounds && rd.revealedVotes == rd.totalVotes;
        if (c.ruling != Ruling.None || rd.tallied || rd.commitDeadline == 0 || (block.timestamp <= rd.revealDeadline && !allRevealed))
        {
            revert WrongPhase(id, "not tallying");
        }
        rd.tallied = true;
        bool decided = round < sampledRounds
            ? uint256(rd.leadingVotes) * 2 > rd.totalVotes
            : uint256(rd.revealedVotes) * 2 >= rd.totalVotes && uint256(rd.leadingVotes) * 2 > rd.revealedVotes;
        bytes32 key = decided ? rd.leadingKey : bytes32(0);
        rd.decidedKey = key;
        if (decided && round < sampledRounds) rd.appealDeadline = uint40(block.timestamp) + appealWindow;
        emit RoundTallied(id, round, key, rd.leadingVotes, rd.revealedVotes, rd.totalVotes, rd.appealDeadline);
        if (round == sampledRounds) {
            _close(id, c, key);
        } else if (!decided) {
            c.round = round + 1;
            _openRound(id, c, round + 1, address(0), 0);
        }
    }

    /// @notice Appeals the current, decided round of case `id` to a larger panel, posting twice the
    /// previous round's bond (approve the court first). Anyone may appeal: the party that lost the
    /// round, or a verifier whose ballot a wrong decision would slash. The bond comes back if the
    /// final ruling differs from the decision appealed; otherwise it is forfeited like the loser's.
    function appeal(uint256 id) external nonReentrant {
        Case storage c = _cases[id];
        uint8 round = c.round;
        Round storage rd = _rounds[id][round];
        if (c.ruling != Ruling.None || rd.decidedKey == bytes32(0) || round == sampledRounds || block.timestamp > rd.appealDeadline) {
            revert WrongPhase(id, "not appealable");
        }
        uint96 bond = c.baseBond << (round + 1);
        _pullExactly(token, msg.sender, bond);
        c.round = round + 1;
        emit Appealed(id, round + 1, msg.sender, bond);
        _openRound(id, c, round + 1, msg.sender, bond);
    }

    /// @notice Closes case `id` by its current round's decision once the appeal window has passed
    /// without an appeal. Anyone may call.
    function closeCase(uint256 id) external nonReentrant {
        Case storage c = _cases[id];
        Round storage rd = _rounds[id][c.round];
        if (c.ruling != Ruling.None || rd.decidedKey == bytes32(0) || block.timestamp <= rd.appealDeadline) {
            revert WrongPhase(id, "not closable");
        }
        _close(id, c, rd.decidedKey);
    }

    /// @notice Settles `verifier`'s ballot of round `round` of closed case `id`: a coherent ballot
    /// gets its lock back plus its share of the reward pool, any other loses its lock to the pool.
    /// Anyone may call (so silence can always be slashed).
    function claimBallot(uint256 id, uint8 round, address verifier) external {
        Case storage c = _cases[id];
        Ballot storage b = _ballots[id][round][verifier];
        if (c.ruling == Ruling.None || b.claimed || b.locked == 0) revert NothingToClaim(id, round, verifier);
        b.claimed = true;
        bool coherent = b.revealed && (c.ruling == Ruling.Void || b.key == c.finalKey);
        uint96 amount;
        if (coherent) {
            // Casting is safe: the share is at most the pool, a uint96.
            // forge-lint: disable-next-line(unsafe-typecast)
            amount = uint96((uint256(c.rewardPool) * b.locked) / c.coherentLocked);
            c.rewardPool -= amount;
            c.coherentLocked -= b.locked;
            _release(verifier, b.locked, amount);
        } else {
            amount = b.locked;
            _forfeit(verifier, amount);
        }
        emit BallotClaimed(id, round, verifier, coherent, amount);
    }

    /// @notice The digest a verifier commits to.
    function verdictDigest(
        address verifier,
        uint256 id,
        uint8 round,
        uint64 fuelUsed,
        bytes32 outputHash,
        bytes32 salt
    ) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VERDICT_TYPEHASH, verifier, id, round, fuelUsed, outputHash, salt)));
    }

    /// @notice The seats of sampled round `round` (the full court has none).
    function panelSize(uint8 round) public view returns (uint256) {
        return round < sampledRounds ? ((uint256(panel) + 1) << round) - 1 : 0;
    }

    /// @notice The bond an appeal into round `round` of case `id` costs.
    function appealBond(uint256 id, uint8 round) external view returns (uint256) {
        return uint256(_cases[id].baseBond) << round;
    }

    /// @notice Case `id`.
    function caseOf(uint256 id) external view returns (Case memory) {
        return _cases[id];
    }

    /// @notice Round `round` of case `id`.
    function roundOf(uint256 id, uint8 round) external view returns (Round memory) {
        return _rounds[id][round];
    }

    /// @notice `verifier`'s ballot in round `round` of case `id`.
    function ballotOf(uint256 id, uint8 round, address verifier) external view returns (Ballot memory) {
        return _ballots[id][round][verifier];
    }

    /// @notice Votes revealed for `key` in round `round` of case `id`.
    function votesFor(uint256 id, uint8 round, bytes32 key) external view returns (uint256) {
        return _votesFor[id][round][key];
    }

    /// @notice The claim key of (`fuelUsed`, `outputHash`), as rounds count it.
    function claimKey(uint64 fuelUsed, bytes32 outputHash) external pure returns (bytes32) {
        return ClaimKeys.keyOf(fuelUsed, outputHash);
    }

    function _openRound(uint256 id, Case storage c, uint8 round, address appellant, uint96 bond) private {
        Round storage rd = _rounds[id][round];
        rd.openedBlock = uint64(block.number);
        rd.appellant = appellant;
        rd.bond = bond;
        if (round < sampledRounds) {
            rd.drawBlock = uint64(block.number);
            pendingDraws += 1;
            emit RoundOpened(id, round, panelSize(round), rd.drawBlock);
            return;
        }
        // The full court: every verifier but the parties may vote, weighted by its stake (the
        // provider's agents cannot vote either, but cannot be listed: their stake counts as silent).
        uint256 eligible = _tree.total - _verifiers[c.consumer].stake;
        if (c.provider != c.consumer) eligible -= _verifiers[c.provider].stake;
        if (c.hostKey != c.provider && c.hostKey != c.consumer) eligible -= _verifiers[c.hostKey].stake;
        // Casting is safe: at most the pool's total stake, a sum of uint96 stakes of one token.
        // forge-lint: disable-next-line(unsafe-typecast)
        rd.totalVotes = uint96(eligible);
        emit RoundOpened(id, round, 0, 0);
        _startVoting(id, round, rd, 0);
    }

    function _startVoting(uint256 id, uint8 round, Round storage rd, uint256 seats) private {
        uint40 commitDeadline = uint40(block.timestamp) + commitWindow;
        rd.commitDeadline = commitDeadline;
        rd.revealDeadline = commitDeadline + revealWindow;
        emit PanelDrawn(id, round, seats, commitDeadline, rd.revealDeadline);
    }

    /// @dev Draws the seats of sampled round `round`; returns how many were filled. Each draw
    /// picks a verifier with probability stake / total; a party or a verifier without `seatStake`
    /// unlocked is skipped. At most four draws per seat are tried, so a pool made mostly of the
    /// parties' own stake leaves seats empty (and an empty seat counts against every claim).
    function _drawSeats(uint256 id, Case storage c, uint8 round, bytes32 seed) private returns (uint256 seats) {
        uint256 total = _tree.total;
        if (total == 0) return 0;
        uint256 wanted = panelSize(round);
        uint96 lock = seatStake;
        for (uint256 attempt; seats < wanted && attempt < wanted * 4; ++attempt) {
            address v = _verifierAt[_tree.draw(uint256(keccak256(abi.encode(seed, attempt))) % total)];
            if (_isParty(c, v) || !_tryLock(v, lock)) continue;
            Ballot storage b = _ballots[id][round][v];
            b.votes += 1;
            b.locked += lock;
            ++seats;
            emit VerifierDrawn(id, round, v);
        }
    }

    /// @dev Enrols the caller in the full court: its stake is its weight, and `courtLockBps` of it
    /// (as much as is not locked elsewhere) is at risk.
    function _enrolInFullCourt(uint256 id, Case storage c, Round storage rd, Ballot storage b) private {
        Verifier storage v = _verifiers[msg.sender];
        if (v.stake == 0 || _isParty(c, msg.sender) || v.stakedAtBlock >= rd.openedBlock) revert NotOnPanel(id, msg.sender);
        uint256 weight = v.stake;
        uint256 lock = (weight * courtLockBps) / BPS;
        uint256 unlocked = weight - v.locked;
        if (lock > unlocked) lock = unlocked;
        _tryLock(msg.sender, lock);
        b.votes = uint96(weight);
        // Casting is safe: at most the verifier's uint96 stake.
        // forge-lint: disable-next-line(unsafe-typecast)
        b.locked = uint96(lock);
        rd.totalLocked += uint96(lock);
    }

    /// @dev Closes case `id` on `finalKey` (zero: no majority), has the market carry out the
    /// ruling, pays the winner and sets up the verifiers' reward pool.
    function _close(uint256 id, Case storage c, bytes32 finalKey) private {
        Ruling ruling;
        if (finalKey == bytes32(0)) ruling = Ruling.Void;
        else if (finalKey == c.reportKey) ruling = Ruling.Upheld;
        else if (finalKey == ClaimKeys.unavailable()) ruling = Ruling.ContentWithheld;
        else ruling = Ruling.Overturned;
        c.ruling = ruling;
        c.finalKey = finalKey;

        uint256 coherent;
        uint256 slashed;
        for (uint256 r; r <= c.round; ++r) {
            Round storage rd = _rounds[id][r];
            uint256 good = ruling == Ruling.Void ? rd.revealedLocked : _lockedFor[id][r][finalKey];
            coherent += good;
            slashed += rd.totalLocked - good;
        }

        uint256 toCourt = IDisputedMarket(market).executeRuling(id, ruling);
        uint256 forfeited = toCourt + _settleBonds(id, c, finalKey);
        address winner = ruling == Ruling.Overturned || ruling == Ruling.Void ? c.consumer : c.provider;
        uint256 toVerifiers = coherent == 0 ? 0 : forfeited / 2;
        uint256 pool = toVerifiers + slashed;
        uint256 winnerPayout = forfeited - toVerifiers;
        if (coherent == 0) {
            // No coherent ballot to reward: the slashed stake goes to the winner (the consumer on Void).
            winnerPayout += pool;
            pool = 0;
        }
        // Casting is safe: the pool is made of bonds and locked stakes, each a uint96 sum.
        // forge-lint: disable-next-line(unsafe-typecast)
        c.rewardPool = uint96(pool);
        // forge-lint: disable-next-line(unsafe-typecast)
        c.coherentLocked = uint96(coherent);
        if (winnerPayout != 0) token.safeTransfer(winner, winnerPayout);
        emit CaseClosed(id, ruling, finalKey, forfeited, slashed, pool, winnerPayout);
    }

    /// @dev Returns every bond whose challenge the final ruling bore out and sums the rest. The
    /// consumer's dispute challenged the report: it comes back if the report fell or nothing was
    /// proven. Each appeal challenged the previous round's decision: it comes back if the final
    /// claim is not that decision.
    function _settleBonds(uint256 id, Case storage c, bytes32 finalKey) private returns (uint256 forfeited) {
        for (uint256 r; r <= c.round; ++r) {
            Round storage rd = _rounds[id][r];
            if (rd.bond == 0) continue;
            bytes32 challenged = r == 0 ? c.reportKey : _rounds[id][r - 1].decidedKey;
            bool borneOut = r == 0
                ? c.ruling == Ruling.Overturned || c.ruling == Ruling.Void
                : finalKey != challenged;
            if (borneOut) token.safeTransfer(rd.appellant, rd.bond);
            else forfeited += rd.bond;
        }
    }

    function _isParty(Case storage c, address v) private view returns (bool) {
        return v == c.consumer || v == c.provider || v == c.hostKey || registry.isAgent(c.provider, v);
    }
}
