// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {UsageReport} from "../../contracts/market/MarketTypes.sol";
import {MarketSetup} from "./utils/MarketSetup.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Fuzzes the money paths: whatever the prices, caps and reported fuel, settlement pays
/// exactly min(fuel, cap) * price / 1e6 + fee, returns the rest, and creates or destroys nothing.
contract SettlementFuzzTest is MarketSetup {
    address internal constant PROVIDER = address(0xB0);
    uint256 internal offerId;

    function setUp() public {
        _deployMarket();
        offerId = _registerProvider(PROVIDER, HOST_KEY, 0, type(uint96).max / 2);
    }

    function testFuzz_cosignedSettlementPaysExactlyAndConserves(
        uint64 maxFuel,
        uint96 maxPrice,
        uint96 maxFee,
        uint96 price,
        uint96 fee,
        uint64 fuelUsed
    ) public {
        maxFuel = uint64(_bound(maxFuel, 1, type(uint64).max));
        maxPrice = uint96(_bound(maxPrice, 1, type(uint64).max));
        maxFee = uint96(_bound(maxFee, 0, type(uint64).max));
        price = uint96(_bound(price, 1, maxPrice));
        fee = uint96(_bound(fee, 0, maxFee));
        uint256 escrow = (uint256(maxFuel) * maxPrice) / 1e6 + maxFee;
        vm.assume(escrow >= 1 && escrow < type(uint96).max / 8);
        address consumer = vm.addr(CONSUMER_KEY);
        _fund(consumer, escrow);

        vm.prank(consumer);
        uint256 id = market.postRequest(_params(maxFuel, maxPrice, maxFee, uint40(block.timestamp + 1 days)));
        vm.prank(PROVIDER);
        market.bid(id, offerId, price, fee, bytes32(0));
        vm.prank(consumer);
        market.acceptBid(id, PROVIDER);

        UsageReport memory report = UsageReport(id, fuelUsed, 1, 1, 0, 0, keccak256("out"), 1, 7);
        uint256 providerBefore = token.balanceOf(PROVIDER);
        market.reportAndSettle(report, _signReport(HOST_KEY, report), _signAcceptance(CONSUMER_KEY, report));

        uint256 fuel = fuelUsed < maxFuel ? fuelUsed : maxFuel;
        uint256 payment = (fuel * price) / 1e6 + fee;
        require(token.balanceOf(PROVIDER) - providerBefore == payment, "provider paid exactly");
        require(token.balanceOf(consumer) == escrow - payment, "consumer refunded the rest");
        require(payment <= escrow, "never more than the escrow");
        require(token.balanceOf(address(market)) == 0, "market keeps nothing");
        require(registry.providerOf(PROVIDER).exposure == 0, "the reserve is released");
    }

    function testFuzz_breachRefundsEverythingPlusThePenalty(uint64 maxFuel, uint96 maxPrice, uint96 price) public {
        maxFuel = uint64(_bound(maxFuel, 1, type(uint64).max));
        maxPrice = uint96(_bound(maxPrice, 1, type(uint64).max));
        price = uint96(_bound(price, 1, maxPrice));
        uint256 escrow = (uint256(maxFuel) * maxPrice) / 1e6;
        vm.assume(escrow >= 1 && escrow < type(uint96).max / 8);
        address consumer = vm.addr(CONSUMER_KEY);
        _fund(consumer, escrow);
        vm.prank(consumer);
        uint256 id = market.postRequest(_params(maxFuel, maxPrice, 0, uint40(block.timestamp + 1 days)));
        vm.prank(PROVIDER);
        market.bid(id, offerId, price, 0, bytes32(0));
        vm.warp(block.timestamp + 61);
        market.closeAuction(id);
        vm.warp(block.timestamp + 2 days);
        uint256 stakeBefore = token.balanceOf(address(registry));
        market.claimBreach(id);
        // the stake reserved the whole penalty at the award, so the consumer gets all of it
        uint256 penalty = (uint256(maxFuel) * price) / 1e6;
        require(token.balanceOf(consumer) == escrow + penalty, "escrow back plus the penalty");
        require(token.balanceOf(address(registry)) == stakeBefore - penalty, "penalty from the stake");
        require(token.balanceOf(address(market)) == 0, "market keeps nothing");
    }

    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (x >= lo && x <= hi) return x;
        return lo + (x % (hi - lo + 1));
    }
}
