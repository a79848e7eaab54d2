// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DeploymentAuction} from "./market/DeploymentAuction.sol";
import {DisputeResolution} from "./market/DisputeResolution.sol";
import {MarketBase} from "./market/MarketBase.sol";

/// @title TroupeMarket
/// @notice The deployment market: requests, bids and awards (DeploymentAuction), agreements and
/// their settlement (AgreementSettlement), disputes handed to the verifier court and their rulings
/// carried out (DisputeResolution). One contract holds every escrow, so its token balance always
/// equals the escrows of live requests and agreements.
/// @dev No admin, no pause: the market has no operator; every state has a timeout path that
/// anyone may trigger, so no funds can be locked by anyone's absence.
contract TroupeMarket is DeploymentAuction, DisputeResolution {
    /// @param config the market's token, registry, offer book, court and parameters
    constructor(Config memory config) MarketBase(config) {}
}
