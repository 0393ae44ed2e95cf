import type { AnalyzerPlugin } from './analyzer.js';
import { captureAnalyzerPlugin } from './capture/capture-plugin.js';

/**
 * Features added to every analyzer started from the command line (captures, flow storage, alerts...): each
 * feature module exports an AnalyzerPlugin and is listed here.
 */
export function analyzerPlugins(): AnalyzerPlugin[] {
  return [captureAnalyzerPlugin()];
}
