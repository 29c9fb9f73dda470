import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createLabControlStack } from './labcontrol.ts';

const app = new App();
createLabControlStack(app);
// A synth (and so a deploy) stops on any AwsSolutions finding not acknowledged in nag-suppressions.ts.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
