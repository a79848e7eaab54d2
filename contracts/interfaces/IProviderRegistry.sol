// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IProviderRegistry
/// @notice What the market needs from the provider registry: who may bid, who signs usage, how
/// reliable a provider has been, and the stake, exposure and record the market alone may change.
interface IProviderRegistry {
    /// @notice How an agreement ended, for the provider's record.
    enum Outcome {
        Completed, // paid by its report: `value` is the payment
        Breached, // no report by the deadline: `value` is the agreement's value
        DisputeWon, // a disputed report stood: `value` is the payment
        DisputeLost, // a disputed report fell: `value` is the agreement's value
        Neutral // nothing to record (content unavailable, or a dispute with no majority)
    }

    /// @notice Everything a bid needs to know about its provider, in one call.
    /// @return tier 0 cloud, 1 edge, 2 iot
    /// @return bonded whether the provider is registered with at least the minimum stake
    /// @return authorised whether `agent` may bid for the provider (the owner always may)
    /// @return failureBps the provider's smoothed, value-weighted failure rate in basis points
    /// @return freeStake the stake not yet reserved by open agreements
    function bidderProfile(address provider, address agent)
        external
        view
        returns (uint8 tier, bool bonded, bool authorised, uint16 failureBps, uint256 freeStake);

    /// @notice The key that signs the provider's usage reports (zero if unregistered).
    function hostKeyOf(address provider) external view returns (address);

    /// @notice Whether `agent` may act for `provider` (the provider itself or an authorised agent).
    function isAgent(address provider, address agent) external view returns (bool);

    /// @notice Reserves `reserve` of `provider`'s free stake for a new agreement. Market only.
    /// @return opened false, reserving nothing, when the free stake is short of `reserve`
    function openAgreement(address provider, uint256 reserve) external returns (bool opened);

    /// @notice Releases an agreement's `reserve` and records how it ended. Market only.
    function closeAgreement(address provider, Outcome outcome, uint256 reserve, uint256 value) external;

    /// @notice Moves up to `amount` of `provider`'s stake (bonded first, then unbonding) to `to`. Market only.
    /// @return slashed the amount actually moved
    function slash(address provider, uint256 amount, address to) external returns (uint256 slashed);
}
