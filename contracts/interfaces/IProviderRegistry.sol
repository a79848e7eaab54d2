// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IProviderRegistry
/// @notice What the market needs from the provider registry: who may bid, who signs usage,
/// and the counters and stake the agreements contract alone may change.
interface IProviderRegistry {
    /// @notice How an agreement ended, for the provider's reputation counters.
    enum Outcome {
        Completed,
        Breached,
        DisputeWon,
        DisputeLost
    }

    /// @notice Everything a bid needs to know about its provider, in one call.
    /// @return tier 0 cloud, 1 edge, 2 iot
    /// @return bonded whether the provider is registered with at least the minimum stake
    /// @return authorised whether `agent` may bid for the provider (the owner always may)
    /// @return reputation the provider's reputation score in basis points
    function bidderProfile(address provider, address agent)
        external
        view
        returns (uint8 tier, bool bonded, bool authorised, uint16 reputation);

    /// @notice The key that signs the provider's usage reports and verdicts (zero if unregistered).
    function hostKeyOf(address provider) external view returns (address);

    /// @notice Whether `provider` is registered, bonded and flagged as a verifier.
    function isVerifier(address provider) external view returns (bool);

    /// @notice Records that an agreement with `provider` opened. Market only.
    function openAgreement(address provider) external;

    /// @notice Records how an agreement with `provider` ended. Market only.
    function closeAgreement(address provider, Outcome outcome) external;

    /// @notice Moves up to `amount` of `provider`'s stake to the market. Market only.
    /// @return slashed the amount actually moved (capped by the stake left)
    function slash(address provider, uint256 amount) external returns (uint256 slashed);
}
