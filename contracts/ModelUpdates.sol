// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IProviderRegistry} from "./interfaces/IProviderRegistry.sol";

/// @title ModelUpdates
/// @notice The bulletin board of federated learning among matchmaker agents: an agent publishes
/// the content hash and location of a model update (weights, never job data) and how many samples
/// it was trained on; peers fetch it, check the hash and merge it. Only a provider or an agent it
/// authorised may publish for it, so every update is tied to a staked provider. Events are the
/// whole interface: nothing is stored.
contract ModelUpdates {
    /// @notice The provider registry that says who may publish for whom.
    IProviderRegistry public immutable registry;

    /// @notice `agent` published a model update for `provider`.
    event ModelUpdatePublished(
        address indexed provider, address indexed agent, bytes32 contentHash, string uri, uint64 samples, uint32 round
    );

    /// @notice `agent` may not publish for `provider`.
    error UnauthorisedAgent(address provider, address agent);
    /// @notice The update has no content hash or no samples.
    error InvalidUpdate(string reason);

    /// @param registry_ the provider registry
    constructor(IProviderRegistry registry_) {
        registry = registry_;
    }

    /// @notice Publishes a model update for `provider`.
    /// @param provider the provider the agent works for
    /// @param contentHash the sha-256 of the update file
    /// @param uri where peers can fetch it
    /// @param samples how many outcomes the update was trained on (its weight in a federated average)
    /// @param round the agent's own update counter
    function publish(address provider, bytes32 contentHash, string calldata uri, uint64 samples, uint32 round) external {
        if (!registry.isAgent(provider, msg.sender) || registry.hostKeyOf(provider) == address(0)) {
            revert UnauthorisedAgent(provider, msg.sender);
        }
        if (contentHash == bytes32(0)) revert InvalidUpdate("contentHash");
        if (samples == 0) revert InvalidUpdate("samples");
        emit ModelUpdatePublished(provider, msg.sender, contentHash, uri, samples, round);
    }
}
