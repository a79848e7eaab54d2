// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TroupeToken} from "../../../contracts/TroupeToken.sol";
import {ProviderRegistry} from "../../../contracts/ProviderRegistry.sol";
import {OfferBook} from "../../../contracts/OfferBook.sol";
import {VerifierCourt} from "../../../contracts/VerifierCourt.sol";
import {DisputeCourt} from "../../../contracts/court/DisputeCourt.sol";
import {IOfferBook} from "../../../contracts/interfaces/IOfferBook.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {IVerifierCourt} from "../../../contracts/interfaces/IVerifierCourt.sol";
import {TroupeMarket} from "../../../contracts/TroupeMarket.sol";
import {MarketBase} from "../../../contracts/market/MarketBase.sol";
import {RequestParams, UsageReport} from "../../../contracts/market/MarketTypes.sol";
import {vm} from "./Vm.sol";

/// @notice Deploys a whole market (token, registry, offers, court, market) and offers the signing
/// helpers the Solidity tests share.
abstract contract MarketSetup {
    TroupeToken internal token;
    ProviderRegistry internal registry;
    OfferBook internal offers;
    VerifierCourt internal court;
    TroupeMarket internal market;

    uint256 internal constant HOST_KEY = 0xA11CE;
    uint256 internal constant CONSUMER_KEY = 0xC0FFEE;
    uint96 internal constant BOND = 10 ether;

    function _deployMarket() internal {
        _deployMarket(1 hours);
    }

    function _deployMarket(uint40 disputeWindow) internal {
        token = new TroupeToken(address(this), 0, type(uint128).max, true);
        registry = new ProviderRegistry(IERC20(address(token)), 100 ether, 7 days, 10 ether, 1_000);
        offers = new OfferBook(registry);
        court = new VerifierCourt(
            IERC20(address(token)),
            IProviderRegistry(address(registry)),
            100 ether,
            7 days,
            DisputeCourt.Params({
                panel: 3,
                sampledRounds: 1,
                seatStake: 20 ether,
                commitWindow: 1 hours,
                revealWindow: 1 hours,
                appealWindow: 1 hours,
                courtLockBps: 1_000
            })
        );
        market = new TroupeMarket(
            MarketBase.Config({
                token: IERC20(address(token)),
                registry: IProviderRegistry(address(registry)),
                offers: IOfferBook(address(offers)),
                court: IVerifierCourt(address(court)),
                disputeWindow: disputeWindow,
                penaltyBps: 10_000,
                disputeBond: BOND,
                minEscrow: 1,
                minBidStepBps: 100
            })
        );
        registry.bindMarket(address(market));
        court.bindMarket(address(market));
    }

    /// @dev Funds `who` and approves the market, the registry and the court for it.
    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.startPrank(who);
        token.approve(address(market), type(uint256).max);
        token.approve(address(registry), type(uint256).max);
        token.approve(address(court), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Registers `owner` (host key `hostKey`) with `stake` and publishes one wide offer; returns its id.
    function _registerProvider(address owner, uint256 hostKey, uint8 tier, uint96 stake) internal returns (uint256 offerId) {
        _fund(owner, uint256(stake) + 10_000 ether);
        bytes memory proof = _signWith(hostKey, registry.hostKeyDigest(owner, vm.addr(hostKey)));
        vm.startPrank(owner);
        registry.register(vm.addr(hostKey), tier, 1, stake, "", proof);
        offerId = offers.publish(
            IOfferBook.Offer({
                provider: owner,
                pricePerMFuel: 1,
                fee: 0,
                maxFuel: type(uint64).max,
                memoryMiB: 4096,
                meteringVersion: 1,
                concurrentJobs: 64,
                latencyClass: 0,
                expiresAt: uint40(block.timestamp + 3650 days)
            })
        );
        vm.stopPrank();
    }

    function _params(uint64 maxFuel, uint96 maxPrice, uint96 maxFee, uint40 deadline)
        internal
        pure
        returns (RequestParams memory p)
    {
        p.workloadHash = keccak256("workload");
        p.maxFuel = maxFuel;
        p.maxPricePerMFuel = maxPrice;
        p.maxFee = maxFee;
        p.minMemoryMiB = 1;
        p.allowedTiers = 7;
        p.maxLatencyClass = 255;
        p.bidWindow = 60;
        p.execTime = 600;
        p.deadline = deadline;
        p.meteringVersion = 1;
    }

    function _signReport(uint256 key, UsageReport memory report) internal view returns (bytes memory) {
        return _signMarket(key, keccak256(abi.encode(market.USAGE_REPORT_TYPEHASH(), report)));
    }

    function _signAcceptance(uint256 key, UsageReport memory report) internal view returns (bytes memory) {
        bytes32 reportHash = keccak256(abi.encode(market.USAGE_REPORT_TYPEHASH(), report));
        return _signMarket(key, keccak256(abi.encode(market.USAGE_ACCEPTANCE_TYPEHASH(), report.agreementId, reportHash)));
    }

    function _signMarket(uint256 key, bytes32 structHash) private view returns (bytes memory) {
        return _signWith(key, keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), structHash)));
    }

    function _signWith(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
