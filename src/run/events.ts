/** What a run reports while it goes and when it ends. */
import type { AnyStep } from '../steps/types.js';
import type { Phase } from '../plan.js';

export type StepStatus = 'ok' | 'changed' | 'skipped' | 'failed' | 'would-change' | 'not-run';

export interface StepOutcome {
  host: string;
  step: string;
  phase: string;
  status: StepStatus;
  reason: string;
  ms: number;
}

/** Output a step chose to show as it ran (kubeadm upgrade plan), already redacted. */
export interface ShownOutput {
  host: string;
  step: string;
  title: string;
  text: string;
}

export type RunEvent =
  | { type: 'phase'; phase: Phase }
  | { type: 'connected'; host: string; ms: number }
  | { type: 'connect-failed'; host: string; error: string }
  | { type: 'step-start'; host: string; step: AnyStep; phase: string }
  | { type: 'step-end'; outcome: StepOutcome }
  | { type: 'stopping'; why: string }
  | { type: 'warning'; message: string }
  | { type: 'output'; output: ShownOutput }
  /** how far a running step is (bytes moved): the progress view's line, --verbose's */
  | { type: 'step-progress'; host: string; step: string; text: string };

export interface HostSummary {
  host: string;
  ok: number;
  changed: number;
  skipped: number;
  failed: number;
  wouldChange: number;
  ms: number;
  roundTrips: number;
  bytesSent: number;
  bytesReceived: number;
  error?: string;
}

export interface RunResult {
  outcomes: StepOutcome[];
  hosts: HostSummary[];
  failed: boolean;
  interrupted: boolean;
  ms: number;
  /** things that went wrong without failing the run (e.g. a join token that could not be deleted) */
  warnings: string[];
  /** what steps showed, in the order they showed it */
  shown: ShownOutput[];
}
