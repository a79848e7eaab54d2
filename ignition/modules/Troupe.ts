import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The whole Troupe market: payment token (or an existing ERC-20 via the `token` parameter of
 * TroupeExistingToken), provider registry, offer book and market, with the market bound to the
 * registry. Parameters (see README "Configuration") default to the local market's values.
 */
export default buildModule("Troupe", (m) => {
  const deployer = m.getAccount(0);
  const supply = m.getParameter("tokenSupply", 10n ** 9n * 10n ** 18n);
  const token = m.contract("TroupeToken", [deployer, supply]);
  const registry = m.contract("ProviderRegistry", [
    token,
    m.getParameter("minStake", 100n * 10n ** 18n),
    m.getParameter("unbondingDelay", 7 * 24 * 3600),
  ]);
  const offers = m.contract("OfferBook", [registry]);
  const market = m.contract("TroupeMarket", [
    {
      token,
      registry,
      offers,
      disputeWindow: m.getParameter("disputeWindow", 3600),
      verdictWindow: m.getParameter("verdictWindow", 3600),
      penaltyBps: m.getParameter("penaltyBps", 10_000),
      disputeBond: m.getParameter("disputeBond", 10n * 10n ** 18n),
      verifierQuorum: m.getParameter("verifierQuorum", 2),
      verifierPanel: m.getParameter("verifierPanel", 3),
    },
  ]);
  m.call(registry, "bindMarket", [market]);
  return { token, registry, offers, market };
});
