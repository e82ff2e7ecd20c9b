/* Trading-rules metadata of Kraken and Coinbase (feed/feed_rules_venues.c,
 * docs/rules.md): the request URLs and the documented answer shapes. The
 * bodies are reconstructed from the documented field lists and examples,
 * not captured from the venues (docs/rules.md says which facts are
 * unverified). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "feed.h"
#include "feed_live_internal.h"
#include "portfolio.h"
#include <stdio.h>
#include <string.h>

static const char *dec(pf_dec d)
{
    static char t[40];
    pf_dec_format(d, t, sizeof t);
    return t;
}

/* https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs:
 * result keyed by the pair name; Kraken's own key for BTC is XXBTZUSD
 * (wsname XBT/USD). */
static const char kr_pairs[] =
    "{\"error\":[],\"result\":{\"XXBTZUSD\":{\"altname\":\"XBTUSD\",\"wsname\":\"XBT/USD\",\"aclass_base\":\"currency\","
    "\"base\":\"XXBT\",\"aclass_quote\":\"currency\",\"quote\":\"ZUSD\",\"lot\":\"unit\",\"cost_decimals\":5,"
    "\"pair_decimals\":1,\"lot_decimals\":8,\"lot_multiplier\":1,\"fees\":[[0,0.4]],\"fee_volume_currency\":\"ZUSD\","
    "\"margin_call\":80,\"margin_stop\":40,\"ordermin\":\"0.00005\",\"costmin\":\"0.5\",\"tick_size\":\"0.1\","
    "\"status\":\"online\"},"
    "\"XETHZUSD\":{\"altname\":\"ETHUSD\",\"wsname\":\"ETH/USD\",\"pair_decimals\":2,\"lot_decimals\":8,"
    "\"ordermin\":\"0.002\",\"costmin\":\"0.5\",\"tick_size\":\"0.01\",\"status\":\"online\"},"
    "\"SOLUSD\":{\"altname\":\"SOLUSD\",\"wsname\":\"SOL/USD\",\"pair_decimals\":2,\"lot_decimals\":8,"
    "\"ordermin\":\"0.02\",\"costmin\":\"0.5\",\"status\":\"online\"}}}";

static void test_kraken(void **st)
{
    (void)st;
    const char *syms[] = {"ETH-USD", "SOL-USD"}, *btc[] = {"BTC-USD"}, *both[] = {"BTC-USD", "ETH-USD"};
    pf_rules_set s;
    char err[200], url[256];
    assert_int_equal(feed_rules_url_kraken("https://api.kraken.com", both, 2, url, sizeof url), PT_OK);
    assert_string_equal(url, "https://api.kraken.com/0/public/AssetPairs?pair=BTC%2FUSD,ETH%2FUSD");
    assert_int_equal(feed_rules_url_kraken("h", both, 2, url, 20), PT_EFULL);
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("kraken", kr_pairs, strlen(kr_pairs), syms, 2, &s, err, sizeof err), PT_OK);
    const pf_rules *e = pf_rules_find(&s, "ETH-USD"), *o = pf_rules_find(&s, "SOL-USD");
    assert_non_null(e);
    assert_non_null(o);
    assert_string_equal(dec(e->tick), "0.01");
    assert_string_equal(dec(e->step), "0.00000001");
    assert_string_equal(dec(e->min_qty), "0.002");
    assert_string_equal(dec(e->min_notional), "0.5");
    assert_string_equal(dec(o->tick), "0.01"); /* no tick_size: 10^-pair_decimals */
    /* BTC-USD against XBT/USD: not matched by name among several ... */
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("kraken", kr_pairs, strlen(kr_pairs), both, 2, &s, err, sizeof err), PT_ENOENT);
    assert_non_null(strstr(err, "BTC-USD"));
    assert_non_null(pf_rules_find(&s, "ETH-USD"));
    /* ... but asked alone, the one pair answered is it */
    const char one[] = "{\"error\":[],\"result\":{\"XXBTZUSD\":{\"altname\":\"XBTUSD\",\"wsname\":\"XBT/USD\","
                       "\"pair_decimals\":1,\"lot_decimals\":8,\"ordermin\":\"0.00005\",\"costmin\":\"0.5\","
                       "\"tick_size\":\"0.1\",\"status\":\"online\"}}}";
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("kraken", one, strlen(one), btc, 1, &s, err, sizeof err), PT_OK);
    assert_string_equal(dec(pf_rules_find(&s, "BTC-USD")->tick), "0.1");
    assert_string_equal(dec(pf_rules_find(&s, "BTC-USD")->min_qty), "0.00005");
    /* the venue's refusal quoted; strictness */
    const char refused[] = "{\"error\":[\"EQuery:Unknown asset pair\"]}";
    assert_int_equal(feed_rules_parse("kraken", refused, strlen(refused), btc, 1, &s, err, sizeof err), PT_EINVAL);
    assert_string_equal(err, "EQuery:Unknown asset pair");
    const char frac[] = "{\"error\":[],\"result\":{\"SOLUSD\":{\"wsname\":\"SOL/USD\",\"lot_decimals\":2.5}}}";
    assert_int_equal(feed_rules_parse("kraken", frac, strlen(frac), syms + 1, 1, &s, err, sizeof err), PT_EPARSE);
    assert_non_null(strstr(err, "lot_decimals"));
    const char noerr[] = "{\"result\":{}}", badmin[] = "{\"error\":[],\"result\":{\"SOLUSD\":{\"ordermin\":\"1e-3\"}}}";
    assert_int_equal(feed_rules_parse("kraken", noerr, strlen(noerr), btc, 1, &s, err, sizeof err), PT_EPARSE);
    assert_int_equal(feed_rules_parse("kraken", badmin, strlen(badmin), syms + 1, 1, &s, err, sizeof err), PT_EPARSE);
    assert_non_null(strstr(err, "ordermin"));
    assert_int_equal(feed_rules_parse("kraken", kr_pairs, 30, syms, 2, &s, err, sizeof err), PT_EPARSE);
}

/* https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/public/get-public-product
 * and .../list-public-products (strings; the docs' example values). */
static const char cb_one[] =
    "{\"product_id\":\"BTC-USD\",\"price\":\"140.21\",\"base_increment\":\"0.00000001\",\"quote_increment\":\"0.01\","
    "\"quote_min_size\":\"1\",\"quote_max_size\":\"1000\",\"base_min_size\":\"0.00000001\",\"base_max_size\":\"1000\","
    "\"status\":\"online\",\"trading_disabled\":false,\"product_type\":\"SPOT\",\"price_increment\":\"0.01\"}";

static void test_coinbase(void **st)
{
    (void)st;
    const char *btc[] = {"BTC-USD"}, *both[] = {"BTC-USD", "ETH-USD"};
    pf_rules_set s;
    char err[200], url[256];
    assert_int_equal(feed_rules_url_coinbase("https://api.coinbase.com", btc, 1, url, sizeof url), PT_OK);
    assert_string_equal(url, "https://api.coinbase.com/api/v3/brokerage/market/products/BTC-USD");
    assert_int_equal(feed_rules_url_coinbase("b", both, 2, url, sizeof url), PT_OK);
    assert_string_equal(url, "b/api/v3/brokerage/market/products?product_ids=BTC-USD&product_ids=ETH-USD");
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("coinbase", cb_one, strlen(cb_one), btc, 1, &s, err, sizeof err), PT_OK);
    const pf_rules *r = pf_rules_find(&s, "BTC-USD");
    assert_non_null(r);
    assert_string_equal(dec(r->tick), "0.01");
    assert_string_equal(dec(r->step), "0.00000001");
    assert_string_equal(dec(r->min_qty), "0.00000001");
    assert_string_equal(dec(r->min_notional), "1");
    char list[1024];
    snprintf(list, sizeof list, "{\"products\":[%s,{\"product_id\":\"ETH-USD\",\"base_increment\":\"0.0001\","
             "\"quote_increment\":\"0.01\",\"quote_min_size\":\"1\",\"base_min_size\":\"0.0001\"}],\"num_products\":2}",
             cb_one);
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("coinbase", list, strlen(list), both, 2, &s, err, sizeof err), PT_OK);
    assert_string_equal(dec(pf_rules_find(&s, "ETH-USD")->step), "0.0001");
    /* one product answered, two asked: the missing one named */
    memset(&s, 0, sizeof s);
    assert_int_equal(feed_rules_parse("coinbase", cb_one, strlen(cb_one), both, 2, &s, err, sizeof err), PT_ENOENT);
    assert_non_null(strstr(err, "ETH-USD"));
    const char nf[] = "{\"error\":\"NOT_FOUND\",\"error_details\":\"ProductID is invalid\","
                      "\"message\":\"ProductID is invalid\"}";
    assert_int_equal(feed_rules_parse("coinbase", nf, strlen(nf), btc, 1, &s, err, sizeof err), PT_EINVAL);
    assert_string_equal(err, "ProductID is invalid");
    const char bad[] = "{\"product_id\":\"BTC-USD\",\"quote_increment\":\"0.01x\"}";
    assert_int_equal(feed_rules_parse("coinbase", bad, strlen(bad), btc, 1, &s, err, sizeof err), PT_EPARSE);
    assert_non_null(strstr(err, "quote_increment"));
    assert_int_equal(feed_rules_parse("coinbase", "[]", 2, btc, 1, &s, err, sizeof err), PT_EPARSE);
    assert_int_equal(feed_rules_parse("coinbase", cb_one, 20, btc, 1, &s, err, sizeof err), PT_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kraken), cmocka_unit_test(test_coinbase)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
