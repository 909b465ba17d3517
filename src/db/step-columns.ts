/** The four persisted steps and the checklist columns that record them. */
export const STEP_NAMES = ['retrieve', 'analyse', 'resize', 'callback'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Column names kept from the seed system's checklist (literal types: the checklist row's keys). */
export const STEP_COLUMN = {
  retrieve: 'retrieve_file',
  analyse: 'ai_visual_analysis',
  resize: 'resize_optimize',
  callback: 'update_callback',
} as const satisfies Record<StepName, string>;

export type StepStatusColumn = (typeof STEP_COLUMN)[StepName];
export type StepAttemptsColumn = `${StepStatusColumn}_attempts`;

export type StepStatus = 'pending' | 'completed' | 'skipped' | 'failed';

/** One status and one attempts column per step. */
export type ChecklistStepColumns = Record<StepStatusColumn, StepStatus> & Record<StepAttemptsColumn, number>;

export function attemptsColumn(step: StepName): StepAttemptsColumn {
  return `${STEP_COLUMN[step]}_attempts`;
}

/**
 * A change to one step's columns, typed as the checklist's keys. (An object
 * literal with a computed key of a union type would widen to an index
 * signature; this is the one place that builds such a key.)
 */
export function stepColumnChanges(
  step: StepName,
  { status, attempts }: { status?: StepStatus; attempts?: number },
): Partial<ChecklistStepColumns> {
  const changes: Partial<Record<string, StepStatus | number>> = {};
  if (status !== undefined) changes[STEP_COLUMN[step]] = status;
  if (attempts !== undefined) changes[attemptsColumn(step)] = attempts;
  return changes as Partial<ChecklistStepColumns>;
}

export function parseStepName(raw: string): StepName | undefined {
  return (STEP_NAMES as readonly string[]).includes(raw) ? (raw as StepName) : undefined;
}
