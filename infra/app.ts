import { App } from 'aws-cdk-lib';
import { createLabControlStack } from './labcontrol.ts';

const app = new App();
createLabControlStack(app);
app.synth();
