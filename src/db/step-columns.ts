/** The four persisted steps and the checklist columns that record them. */
export const STEP_NAMES = ['retrieve', 'analyse', 'resize', 'callback'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Column names kept from the seed system's checklist. */
export const STEP_COLUMN: Record<StepName, string> = {
  retrieve: 'retrieve_file',
  analyse: 'ai_visual_analysis',
  resize: 'resize_optimize',
  callback: 'update_callback',
};

export type StepStatus = 'pending' | 'completed' | 'skipped' | 'failed';

export function attemptsColumn(step: StepName): string {
  return `${STEP_COLUMN[step]}_attempts`;
}

export function parseStepName(raw: string): StepName | undefined {
  return (STEP_NAMES as readonly string[]).includes(raw) ? (raw as StepName) : undefined;
}
