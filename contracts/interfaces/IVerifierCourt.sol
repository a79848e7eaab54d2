// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ruling} from "../market/MarketTypes.sol";

/// @title IVerifierCourt
/// @notice What the market asks of the verifier court: judge a disputed report.
interface IVerifierCourt {
    /// @notice Opens the case of disputed agreement `id`. Market only; the market has already
    /// moved the consumer's `bond` to the court.
    /// @param reportKey the report's claim (`ClaimKeys.keyOf(fuelUsed, outputHash)`, or `ClaimKeys.unavailable()`)
    /// @param unavailable whether the report says the consumer's content could not be fetched
    function openCase(
        uint256 id,
        address consumer,
        address provider,
        address hostKey,
        bytes32 reportKey,
        bool unavailable,
        uint256 bond
    ) external;
}

/// @title IDisputedMarket
/// @notice What the verifier court asks of the market: carry out a final ruling.
interface IDisputedMarket {
    /// @notice Pays out disputed agreement `id` by the court's final `ruling`. Court only.
    /// @return toCourt tokens the market sent the court from the losing provider's stake (its
    /// verification fee), to be shared like a forfeited bond
    function executeRuling(uint256 id, Ruling ruling) external returns (uint256 toCourt);
}
