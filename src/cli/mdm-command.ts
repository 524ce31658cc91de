import { Command, Option } from 'commander';
import { userInfo } from 'node:os';
import { defaultReferenceSource, openMasterData, referenceSourceOf } from '../app.js';
import type { Config } from '../config/index.js';
import { systemClock } from '../domain/index.js';
import { assertRefreshComplete, changedRecords, refreshReferenceData } from '../mdm/index.js';

/**
 * `alphalake mdm refresh`: master data brought up to a reference source in this process
 * (what the `mdm.refresh` job does in a worker), each record's outcome printed as a JSON
 * line and every change audited as `cli:<os user>`. Exits 2 with INCOMPLETE when a record
 * is in error (after applying the others).
 */
export function mdmCommand(config: Config): Command {
  const mdm = new Command('mdm').description('Master data (docs/mdm.md).');
  mdm
    .command('refresh')
    .description(
      'Bring symbols, splits and dividends up to Polygon (POLYGON_API_KEY: the paged ticker list, splits, dividends) or Yahoo (chart splits and dividends); a second run changes nothing.',
    )
    .addOption(
      new Option(
        '--source <name>',
        'the reference source (default: polygon with a key, else yahoo)',
      ).choices(['polygon', 'yahoo']),
    )
    .option(
      '--symbols <tickers>',
      'comma-separated tickers (default: every symbol master data holds that is not DELISTED)',
    )
    .action(async (flags: { source?: string; symbols?: string }) => {
      const actor = `cli:${userInfo().username}`;
      const { masterData, close } = await openMasterData(config);
      try {
        const requested = flags.symbols?.split(',');
        const source = referenceSourceOf(
          config,
          flags.source ?? defaultReferenceSource(config),
          masterData,
          requested,
          systemClock,
          (n) =>
            console.error(`alphalake: ${n.path} answered ${n.status}; retrying in ${n.waitMs} ms`),
        );
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort());
        const result = await refreshReferenceData(masterData, source, actor, controller.signal);
        for (const [of, rows] of [
          ['symbol', result.symbols.results],
          ['corporateAction', result.corporateActions.results],
        ] as const) {
          for (const row of rows) console.log(JSON.stringify({ of, ...row }));
        }
        console.error(
          `alphalake: ${result.source} refresh: ${changedRecords(result)} record(s) created or updated`,
        );
        assertRefreshComplete(result);
      } finally {
        await close();
      }
    });
  return mdm;
}
