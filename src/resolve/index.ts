/**
 * The policy step above the merge (PROTOCOL §2a): resolutions are ordinary deltas that name the
 * conflicts they close; this module decides what they write and builds them.
 */
export { chooseWrite, type ResolveChoice, type ResolutionWrite } from './chooseWrite.js';
export { buildResolutions, type PlannedResolution, type ResolutionStamp } from './buildResolutions.js';
export { loadResolver, type Resolver, type ResolverFunction } from './loadResolver.js';
export { planResolution, targetsOf, nextPendingSeq, type ResolveRequest, type ResolutionPlan } from './planResolution.js';
export { parsePolicyText } from './parsePolicyText.js';
export { whatIf, type WhatIfOptions, type WhatIfReport, type ChangedWinner } from './whatIf.js';
