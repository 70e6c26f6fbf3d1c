/* Tests of the policy calls: virtual keys (sp_keys_*), the audit log (sp_audit), reload
 * (sp_gateway_reload) under load, gateway rate limits and budgets, and host guardrail
 * callbacks (sp_guardrail_add / sp_guardrail_remove). */
#ifndef SP_TEST_POLICY_H
#define SP_TEST_POLICY_H

#include "mock.h"

/* Runs every policy test against `mock` (counts through CHECK). */
void test_policy(const mock_provider *mock);

#endif
