/**
 * `telemetry.otlp`: the custom metrics (token metrics, emit-metric) also go out as OpenTelemetry
 * counters over OTLP/HTTP (JSON encoding), through the official SDK. The SDK is imported only when
 * this is configured, so a gateway without it loads none of it. Counters are cumulative (like the
 * Prometheus ones); their attributes are the dimension names as written (`Tenant`, `API ID`) with
 * the same capped values as /metrics (overflow → `other`). Exports run on the SDK's own timer; a
 * failed export is reported once per outage (OutageLog) and never touches a request.
 * @module
 */
import type { Config } from '../config/schema.ts';
import type { CustomMirror, Metrics } from './metrics.ts';
import type { Logger } from './logger.ts';
import { OutageLog } from '../state/outage-log.ts';
import { VERSION } from '../version.ts';

export interface OtlpExport {
  /** Exports what is left, then stops the timer. */
  close(): Promise<void>;
}

type OtlpConfig = NonNullable<Config['telemetry']['otlp']>;

export async function startOtlpExport(cfg: OtlpConfig, metrics: Metrics, logger: Logger): Promise<OtlpExport> {
  const [{ MeterProvider, PeriodicExportingMetricReader }, { OTLPMetricExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const outage = new OutageLog({
    component: 'otlp',
    failingMessage: 'OTLP metrics export failing; /metrics still has every counter',
    recoveredMessage: 'OTLP metrics export recovered',
    logger,
  });
  const exporter = new OTLPMetricExporter({ url: cfg.url, headers: { ...cfg.headers }, timeoutMillis: cfg.timeoutMs });
  // The SDK reports a failed export only through its diag logger: wrap export() to see results.
  const exportBatch = exporter.export.bind(exporter);
  exporter.export = (batch, done) =>
    exportBatch(batch, (result) => {
      // The error may quote the URL (and so a credential in it): only its kind is logged.
      // ExportResultCode.SUCCESS is 0; a failure carries an error.
      if (result.error === undefined && Number(result.code) === 0) outage.success();
      else outage.failure(result.error?.name ?? 'export failed');
      done(result);
    });
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: cfg.intervalMs, exportTimeoutMillis: cfg.timeoutMs });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'tollgate', 'service.version': VERSION }), readers: [reader] });
  const meter = provider.getMeter('tollgate', VERSION);
  const mirror: CustomMirror = {
    counter(name, description) {
      const counter = meter.createCounter(instrumentName(name), { description });
      return (attributes, value) => counter.add(value, attributes);
    },
  };
  metrics.mirrorCustom(mirror);
  return {
    async close() {
      metrics.mirrorCustom(null);
      // shutdown() runs a last export (bounded by timeoutMs) so counts since the last interval are not lost.
      await provider.shutdown().catch((err: unknown) => outage.failure(err instanceof Error ? err.name : 'shutdown failed'));
    },
  };
}

/** OTel instrument names: a letter, then letters, digits, `_`, `.`, `-`, `/` (at most 255). */
export function instrumentName(name: string): string {
  const out = name.trim().replace(/\s+/g, '_').replace(/[^A-Za-z0-9_./-]/g, '_');
  return (/^[A-Za-z]/.test(out) ? out : `m_${out}`).slice(0, 255);
}
