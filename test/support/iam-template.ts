/** Reading IAM out of a synthesized template, for the infra tests. */

export type TemplateResource = {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
};
export type PolicyStatementJson = {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: Record<string, unknown>;
};

/** Every statement of the `AWS::IAM::Policy` resources attached to a function's role. */
export function statementsOfFunction(
  resources: Record<string, TemplateResource>,
  fn: TemplateResource,
): PolicyStatementJson[] {
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const roleRef = JSON.stringify({ Ref: roleId });
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        ((r.Properties.Roles ?? []) as unknown[]).some((ref) => JSON.stringify(ref) === roleRef),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement);
}
