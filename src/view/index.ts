/** Projections (PROTOCOL §5 `views/`): derived state rebuilt from the log, kept current from a checkpoint. */
export { definitionHash, MERGE_JOURNAL, type Projection } from './Projection.js';
export { updateView, viewFile, type StoredView, type UpdateViewOptions, type UpdateViewResult } from './updateView.js';
export { liveSourceReader, sourceFile, type SourceReader, type SourceRecord } from './sourceRecords.js';
export { watchView } from './watchView.js';
export { registerProjection, type RegisterView, type DispatchState } from './registerProjection.js';
export { builtinViews } from './builtinViews.js';
