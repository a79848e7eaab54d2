// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TroupeToken} from "../../../contracts/TroupeToken.sol";
import {ProviderRegistry} from "../../../contracts/ProviderRegistry.sol";
import {OfferBook} from "../../../contracts/OfferBook.sol";
import {IOfferBook} from "../../../contracts/interfaces/IOfferBook.sol";
import {IProviderRegistry} from "../../../contracts/interfaces/IProviderRegistry.sol";
import {TroupeMarket} from "../../../contracts/TroupeMarket.sol";
import {MarketBase} from "../../../contracts/market/MarketBase.sol";
import {RequestParams, UsageReport} from "../../../contracts/market/MarketTypes.sol";
import {vm} from "./Vm.sol";

/// @notice Deploys a whole market and offers the signing helpers the Solidity tests share.
abstract contract MarketSetup {
    TroupeToken internal token;
    ProviderRegistry internal registry;
    OfferBook internal offers;
    TroupeMarket internal market;

    uint256 internal constant HOST_KEY = 0xA11CE;
    uint256 internal constant CONSUMER_KEY = 0xC0FFEE;

    function _deployMarket() internal {
        token = new TroupeToken(address(this), 0);
        registry = new ProviderRegistry(IERC20(address(token)), 100 ether, 7 days);
        offers = new OfferBook(registry);
        market = new TroupeMarket(
            MarketBase.Config({
                token: IERC20(address(token)),
                registry: IProviderRegistry(address(registry)),
                offers: IOfferBook(address(offers)),
                disputeWindow: 1 hours,
                verdictWindow: 1 hours,
                penaltyBps: 10_000,
                disputeBond: 10 ether,
                verifierQuorum: 2,
                verifierPanel: 3
            })
        );
        registry.bindMarket(address(market));
    }

    /// @dev Funds `who` and approves the market and registry for it.
    function _fund(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.startPrank(who);
        token.approve(address(market), type(uint256).max);
        token.approve(address(registry), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Registers `owner` (host key `hostKey`) and publishes one wide offer; returns its id.
    function _registerProvider(address owner, uint256 hostKey, uint8 tier) internal returns (uint256 offerId) {
        _fund(owner, 10_000 ether);
        vm.startPrank(owner);
        registry.register(vm.addr(hostKey), tier, 1, 1_000 ether, "");
        offerId = offers.publish(
            IOfferBook.Offer({
                provider: owner,
                pricePerMFuel: 1,
                fee: 0,
                maxFuel: type(uint64).max,
                memoryMiB: 4096,
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
        p.deadline = deadline;
    }

    function _signReport(uint256 key, UsageReport memory report) internal view returns (bytes memory) {
        return _sign(key, keccak256(abi.encode(market.USAGE_REPORT_TYPEHASH(), report)));
    }

    function _signAcceptance(uint256 key, UsageReport memory report) internal view returns (bytes memory) {
        bytes32 reportHash = keccak256(abi.encode(market.USAGE_REPORT_TYPEHASH(), report));
        return _sign(key, keccak256(abi.encode(market.USAGE_ACCEPTANCE_TYPEHASH(), report.agreementId, reportHash)));
    }

    function _signVerdict(uint256 key, uint256 id, uint64 fuel, bytes32 outputHash, uint16 version)
        internal
        view
        returns (bytes memory)
    {
        return _sign(key, keccak256(abi.encode(market.VERDICT_TYPEHASH(), id, fuel, outputHash, version)));
    }

    function _sign(uint256 key, bytes32 structHash) private view returns (bytes memory) {
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", market.domainSeparator(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
