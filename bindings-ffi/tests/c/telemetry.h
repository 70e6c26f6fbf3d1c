/* Tests of the telemetry calls: sp_gateway_metrics_text, sp_gateway_usage, record callbacks
 * (sp_gateway_add_observer / sp_gateway_remove_observer), sp_gateway_flush_telemetry, and
 * the per-request cache controls of the context JSON. */
#ifndef SP_TEST_TELEMETRY_H
#define SP_TEST_TELEMETRY_H

#include "mock.h"

/* Runs every telemetry test against `mock` (counts through CHECK). */
void test_telemetry(const mock_provider *mock);

#endif
