// Kraken (WebSocket v2 ohlc, REST OHLC)'s fault suite against
// exchange-sim --protocol kraken (the suite: xsim_run_lib.mjs).
import { runFaults } from './xsim_run_lib.mjs';

await runFaults('kraken');
