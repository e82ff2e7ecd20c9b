// Binance's fault suite against exchange-sim (the suite: xsim_run_lib.mjs).
import { runFaults } from './xsim_run_lib.mjs';

await runFaults('binance');
