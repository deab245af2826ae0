/**
 * `<log-to-eventhub logger-id="token-usage-logger">@{ return new JObject(...).ToString(); }</log-to-eventhub>`:
 * evaluates its message (a constant, or an expression returning a string or a JObject) and queues
 * it on the logger `loggers.<logger-id>` (src/loggers). Queuing is all the request pays: the write
 * happens later, off the request path, and a logger that cannot write never fails the request.
 * An expression that fails is the policy's error (on-error runs), as in APIM.
 *
 * In the outbound section of a streamed answer it runs when the stream has ended, with the final
 * usage (docs/metering.md "Streams"). `partition-id` and `partition-key` are accepted for
 * APIM compatibility; Tollgate's loggers have no partitions, so they are checked and not used.
 * @module
 */
import type { PolicyDefinition } from '../../policy-docs/compile.ts';
import { GatewayError } from '../../core/errors.ts';

export const logToEventhubDefinition: PolicyDefinition = {
  names: ['log-to-eventhub'],
  sections: ['inbound', 'backend', 'outbound', 'on-error'],
  compile(r, _scope, env) {
    const loggerId = r.literal('logger-id', true) as string;
    if (!env.loggerIds.has(loggerId)) throw r.fail('logger-id', `names logger "${loggerId}", which is not defined under loggers`);
    const partitionId = r.literal('partition-id');
    if (partitionId !== undefined && !/^\d+$/.test(partitionId.trim())) throw r.fail('partition-id', `must be a partition number, got "${partitionId}"`);
    r.string('partition-key');
    r.children([]);
    const message = r.text();
    if (message === undefined) throw r.fail(null, 'needs a message (its text: a string or an expression)');
    const sinks = env.services.loggers;
    return {
      name: 'log-to-eventhub',
      run(ctx) {
        const sink = sinks.get(loggerId);
        if (sink === undefined) throw new GatewayError('GW_ERR_POLICY_FAILED', `log-to-eventhub: logger "${loggerId}" is not running.`);
        sink.push(message(ctx));
      },
    };
  },
};
