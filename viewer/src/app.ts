/** What every view can read and change: the chosen frame, the store's frame range, the URL. */
export interface App {
  /** First and last merge frame (null before the first merge) and the number of merges. */
  readonly first: number | null;
  readonly last: number | null;
  readonly count: number;
  /** The frame the timeline is at. */
  readonly frame: number;
  setFrame(frame: number): void;
  /** A view's own URL parameter (deep links): read, and write (replaces the history entry). */
  param(key: string): string | null;
  setParams(values: Record<string, string | number | null | undefined>): void;
  /** Opens another view with parameters (a new history entry). */
  go(view: string, values?: Record<string, string | number | null | undefined>): void;
}

/** A mounted view: told when the frame moves and when merges arrive; disposed when left. */
export interface ViewInstance {
  frameChanged?(frame: number): void;
  mergesChanged?(): void;
  dispose?(): void;
}

/** A view of the viewer: its tab and how to mount it. */
export interface View {
  id: string;
  title: string;
  /** Shows the frame timeline above it. */
  usesFrame: boolean;
  mount(container: HTMLElement, app: App): ViewInstance;
}
