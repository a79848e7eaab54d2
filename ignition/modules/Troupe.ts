import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { DEFAULT_MARKET_PARAMS, courtParams, type MarketParams } from "../../contracts/client/deploy.js";

/**
 * The whole Troupe market: payment token, provider registry, offer book, verifier court, market
 * and the model-update board, with the market bound to the registry and the court. Parameters
 * (README "Configuration") default to `DEFAULT_MARKET_PARAMS`; the token is minted once and not
 * mintable unless `tokenMintable` is true (the local market's faucet).
 */
export default buildModule("Troupe", (m) => {
  const deployer = m.getAccount(0);
  const param = <K extends keyof MarketParams>(name: K) => m.getParameter(name, DEFAULT_MARKET_PARAMS[name] as never);
  const token = m.contract("TroupeToken", [deployer, param("tokenSupply"), param("tokenCap"), param("tokenMintable")]);
  const registry = m.contract("ProviderRegistry", [
    token,
    param("minStake"),
    param("unbondingDelay"),
    param("priorValue"),
    param("priorFailureBps"),
  ]);
  const offers = m.contract("OfferBook", [registry]);
  const defaults = courtParams(DEFAULT_MARKET_PARAMS);
  const court = m.contract("VerifierCourt", [
    token,
    registry,
    param("minVerifierStake"),
    param("verifierLeaveDelay"),
    {
      panel: m.getParameter("verifierPanel", defaults.panel),
      sampledRounds: m.getParameter("sampledRounds", defaults.sampledRounds),
      seatStake: m.getParameter("seatStake", defaults.seatStake),
      commitWindow: m.getParameter("commitWindow", defaults.commitWindow),
      revealWindow: m.getParameter("revealWindow", defaults.revealWindow),
      appealWindow: m.getParameter("appealWindow", defaults.appealWindow),
      courtLockBps: m.getParameter("courtLockBps", defaults.courtLockBps),
    },
  ]);
  const market = m.contract("TroupeMarket", [
    {
      token,
      registry,
      offers,
      court,
      disputeWindow: param("disputeWindow"),
      penaltyBps: param("penaltyBps"),
      disputeBond: param("disputeBond"),
      minEscrow: param("minEscrow"),
      minBidStepBps: param("minBidStepBps"),
    },
  ]);
  const models = m.contract("ModelUpdates", [registry]);
  m.call(registry, "bindMarket", [market]);
  m.call(court, "bindMarket", [market]);
  return { token, registry, offers, court, market, models };
});
