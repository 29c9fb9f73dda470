import { chordStep } from './chord-step.ts';
import type { FollowUpStep } from './follow-ups.ts';
import { linksStep } from './links.ts';

/**
 * The follow-ups the worker runs after a batch's outcomes are recorded, in this order. Each lives
 * in its own file (links and chains, chords) and is idempotent.
 */
export const followUpSteps: readonly FollowUpStep[] = [linksStep, chordStep];
