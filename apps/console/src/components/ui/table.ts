export interface Column {
  key: string;
  label: string;
  /** Column header is visually hidden (e.g. a selection checkbox column). */
  hideLabel?: boolean;
  /** Sort key emitted when the header is activated. */
  sortKey?: string;
  /** Shown as the card's title on phones. */
  primary?: boolean;
  /** On phones, pinned to the card's top-right corner (e.g. a selection checkbox). */
  corner?: boolean;
}
