// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";
import {VerifierStaking} from "./court/VerifierStaking.sol";
import {DisputeCourt} from "./court/DisputeCourt.sol";

/// @title VerifierCourt
/// @notice The market's dispute court: a pool of staked verifiers (VerifierStaking) and the game
/// that judges a disputed usage report with them (DisputeCourt: stake-weighted random panels,
/// commit–reveal verdicts, appeals up to a full court, coherence rewards and slashing). It holds
/// the verifiers' stakes and every dispute and appeal bond.
/// @dev No admin, no pause: every phase has a deadline after which anyone may move the case on.
contract VerifierCourt is DisputeCourt {
    /// @param token_ the market's token
    /// @param registry_ the provider registry
    /// @param minVerifierStake_ the least stake a verifier joins with (at least `params.seatStake`)
    /// @param leaveDelay_ seconds between a leave request and the withdrawal
    /// @param params the game's parameters
    constructor(
        IERC20 token_,
        IProviderRegistry registry_,
        uint96 minVerifierStake_,
        uint40 leaveDelay_,
        Params memory params
    ) VerifierStaking(token_, minVerifierStake_, leaveDelay_) DisputeCourt(registry_, params) {}
}
