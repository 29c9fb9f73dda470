import { Reject } from '../../shared/task/index.ts';

/**
 * Where LabControl's tasks find their tables and who their mail comes from. The stack
 * (infra/labcontrol.ts) sets these on every worker; the local runner reads them from the same
 * template. Read in this one place.
 */
export const LabControlEnv = {
  usersTable: 'LABCONTROL_USERS_TABLE',
  appointmentsTable: 'LABCONTROL_APPOINTMENTS_TABLE',
  notificationsTable: 'LABCONTROL_NOTIFICATIONS_TABLE',
  studiesTable: 'LABCONTROL_STUDIES_TABLE',
  /** The verified SES identity every email is sent from. */
  sesSender: 'LABCONTROL_SES_SENDER',
} as const;

/** The sender when neither the stack nor the environment names one. */
export const DEFAULT_SES_SENDER = 'noreply@labcontrol.example';

export interface LabControlSettings {
  usersTable: string;
  appointmentsTable: string;
  notificationsTable: string;
  studiesTable: string;
  sesSender: string;
}

/**
 * A setting the process was not given: names the variable, so the fix is obvious from a log line.
 * A `Reject`, as no retry can fix a deployment.
 */
export class LabControlSettingsError extends Reject {
  readonly variable: string;
  constructor(variable: string) {
    super(
      `${variable} is not set: LabControl's tasks need it (the stack sets it on every worker; locally, the template's worker environment)`,
    );
    this.name = 'LabControlSettingsError';
    this.variable = variable;
  }
}

/**
 * Reads the settings on each call rather than once per module: cheap, and a test or the local
 * runner that sets the environment after import is still honoured.
 */
export function labControlSettings(env: NodeJS.ProcessEnv = process.env): LabControlSettings {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new LabControlSettingsError(name);
    return value;
  };
  return {
    usersTable: required(LabControlEnv.usersTable),
    appointmentsTable: required(LabControlEnv.appointmentsTable),
    notificationsTable: required(LabControlEnv.notificationsTable),
    studiesTable: required(LabControlEnv.studiesTable),
    sesSender: env[LabControlEnv.sesSender] || DEFAULT_SES_SENDER,
  };
}
