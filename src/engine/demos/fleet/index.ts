export { runFleetDemo } from './runFleetDemo.js';
export { runFleetAgent } from './fleetAgent.js';
export { runNaiveWorker, type NaiveWorkerConfig } from './naiveSharedFile.js';
export { runNaiveComparison, type NaiveReport } from './naiveComparison.js';
export { agentName, itemsFor, crashFrame, TASKS, FLEET_POLICIES, type FleetAgentConfig } from './fleetWorkload.js';
