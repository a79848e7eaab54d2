// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {TokenIntake} from "../TokenIntake.sol";
import {SortitionTree} from "./SortitionTree.sol";

/// @title VerifierStaking
/// @notice The verifier pool: anyone stakes the market's token to be drawn onto dispute panels,
/// with odds proportional to stake (so splitting a stake across addresses buys nothing). Stake
/// drawn onto a panel is locked until the case closes and the verifier's ballot is claimed: it
/// is slashed if the verifier voted against the final ruling or never revealed. Leaving takes a
/// delay, and only unlocked stake may leave.
///
/// While any panel waits to be drawn, stake weights are frozen (joins, top-ups, leaves and
/// ballot claims revert with `DrawPending`): the randomness of a pending draw is already public,
/// and a weight change would let its author move the draw onto one of its own addresses. A
/// pending draw can be completed by anyone one block after its case opened.
abstract contract VerifierStaking is ReentrancyGuard, TokenIntake {
    using SafeERC20 for IERC20;
    using SortitionTree for SortitionTree.Tree;

    /// @dev Two storage slots.
    struct Verifier {
        uint96 stake; // in the pool, locked included: the verifier's weight in every draw
        uint96 locked; // at risk in cases not yet claimed
        uint32 position; // in the sortition tree, from 1; zero until the first stake
        uint96 leaving; // requested to leave, no longer drawn or at risk
        uint40 leaveReadyAt;
        uint64 stakedAtBlock; // the block of the last stake increase
    }

    /// @notice The staking token (the market's).
    IERC20 public immutable token;
    /// @notice The least stake a verifier joins with.
    uint96 public immutable minVerifierStake;
    /// @notice Seconds between a leave request and the withdrawal.
    uint40 public immutable leaveDelay;
    /// @notice Cases whose panel waits to be drawn; stake weights are frozen while it is nonzero.
    uint256 public pendingDraws;
    /// @notice Stake locked in cases, over all verifiers.
    uint256 public totalLocked;

    SortitionTree.Tree internal _tree;
    mapping(uint256 position => address) internal _verifierAt;
    mapping(address verifier => Verifier) internal _verifiers;

    /// @notice `verifier` added `amount` to its stake.
    event VerifierStaked(address indexed verifier, uint256 amount, uint256 stake);
    /// @notice `verifier` asked to take `amount` out of the pool, withdrawable at `readyAt`.
    event VerifierLeaving(address indexed verifier, uint256 amount, uint256 stake, uint40 readyAt);
    /// @notice `verifier` withdrew `amount`.
    event VerifierWithdrew(address indexed verifier, uint256 amount);

    /// @notice A first stake must be at least `minVerifierStake`.
    error StakeTooLow(uint256 stake, uint256 minVerifierStake);
    /// @notice The amount is zero or above the unlocked stake `available`.
    error InvalidAmount(uint256 amount, uint256 available);
    /// @notice A panel waits to be drawn: stake weights are frozen until it is (call `drawPanel`).
    error DrawPending(uint256 pendingDraws);
    /// @notice A leave is pending, or not ready until `readyAt`.
    error LeavePending(uint40 readyAt);
    /// @notice There is nothing to withdraw.
    error NothingLeaving();

    modifier weightsUnfrozen() {
        if (pendingDraws != 0) revert DrawPending(pendingDraws);
        _;
    }

    constructor(IERC20 token_, uint96 minVerifierStake_, uint40 leaveDelay_) {
        token = token_;
        minVerifierStake = minVerifierStake_;
        leaveDelay = leaveDelay_;
    }

    /// @notice Joins the pool, or adds to the caller's stake (approve the court first).
    /// @param amount tokens to stake; a first stake must be at least `minVerifierStake`
    function stake(uint96 amount) external nonReentrant weightsUnfrozen {
        if (amount == 0) revert InvalidAmount(0, 0);
        Verifier storage v = _verifiers[msg.sender];
        if (v.position == 0) {
            if (amount < minVerifierStake) revert StakeTooLow(amount, minVerifierStake);
            // Casting is safe: positions are counted one per address that ever staked.
            // forge-lint: disable-next-line(unsafe-typecast)
            v.position = uint32(_tree.append(amount));
            _verifierAt[v.position] = msg.sender;
        } else {
            _tree.increase(v.position, amount);
        }
        v.stake += amount;
        v.stakedAtBlock = uint64(block.number);
        _pullExactly(token, msg.sender, amount);
        emit VerifierStaked(msg.sender, amount, v.stake);
    }

    /// @notice Takes `amount` of the caller's unlocked stake out of the pool; it can be withdrawn
    /// after `leaveDelay`.
    /// @param amount the stake to take out
    function requestLeave(uint96 amount) external weightsUnfrozen {
        Verifier storage v = _verifiers[msg.sender];
        if (v.leaving != 0) revert LeavePending(v.leaveReadyAt);
        uint256 available = v.stake - v.locked;
        if (amount == 0 || amount > available) revert InvalidAmount(amount, available);
        v.stake -= amount;
        _tree.decrease(v.position, amount);
        uint40 readyAt = uint40(block.timestamp) + leaveDelay;
        v.leaving = amount;
        v.leaveReadyAt = readyAt;
        emit VerifierLeaving(msg.sender, amount, v.stake, readyAt);
    }

    /// @notice Withdraws what the caller asked to take out, once the delay has passed.
    function withdraw() external nonReentrant {
        Verifier storage v = _verifiers[msg.sender];
        uint96 amount = v.leaving;
        if (amount == 0) revert NothingLeaving();
        if (block.timestamp < v.leaveReadyAt) revert LeavePending(v.leaveReadyAt);
        v.leaving = 0;
        v.leaveReadyAt = 0;
        token.safeTransfer(msg.sender, amount);
        emit VerifierWithdrew(msg.sender, amount);
    }

    /// @notice The pool record of `verifier`.
    function verifierOf(address verifier) external view returns (Verifier memory) {
        return _verifiers[verifier];
    }

    /// @notice The total stake in the pool (the weight every draw is taken over).
    function totalStake() external view returns (uint256) {
        return _tree.total;
    }

    /// @dev Locks `amount` of `verifier`'s stake if that much is unlocked; returns whether it did.
    function _tryLock(address verifier, uint256 amount) internal returns (bool) {
        Verifier storage v = _verifiers[verifier];
        if (uint256(v.stake) - v.locked < amount) return false;
        // Casting is safe: locked + amount <= stake, a uint96.
        // forge-lint: disable-next-line(unsafe-typecast)
        v.locked += uint96(amount);
        totalLocked += amount;
        return true;
    }

    /// @dev Unlocks `locked` of `verifier`'s stake and adds `reward` to it.
    function _release(address verifier, uint96 locked, uint96 reward) internal weightsUnfrozen {
        Verifier storage v = _verifiers[verifier];
        v.locked -= locked;
        totalLocked -= locked;
        if (reward != 0) {
            v.stake += reward;
            _tree.increase(v.position, reward);
        }
    }

    /// @dev Slashes `verifier`'s `locked` stake (it stays in the pool's balance, owed to coherent verifiers).
    function _forfeit(address verifier, uint96 locked) internal weightsUnfrozen {
        Verifier storage v = _verifiers[verifier];
        v.locked -= locked;
        totalLocked -= locked;
        v.stake -= locked;
        _tree.decrease(v.position, locked);
    }
}
