import { Command, Option } from 'commander';
import { userInfo } from 'node:os';
import { accountAuditOf, authSettingsOf, openMasterData, openUserStore } from '../app.js';
import { Accounts, API_ROLES, mintToken, parseRole } from '../auth/index.js';
import { durationSeconds, type Config } from '../config/index.js';
import { isoOfMicros, systemClock } from '../domain/index.js';

/**
 * `alphalake auth token`: mints an HS256 token with AUTH_JWT_SECRET (and the configured
 * issuer, audience and role claim), for local use and scripts; printed alone on stdout.
 */
export function authCommand(config: Config): Command {
  const auth = new Command('auth').description('Tokens for the GraphQL API (docs/auth.md).');
  auth
    .command('token')
    .description(
      'Print a JWT (HS256, signed with AUTH_JWT_SECRET) for a user and role; send it as `Authorization: Bearer <token>`.',
    )
    .requiredOption('--user <name>', 'the user the token names (its `sub`)')
    .addOption(
      new Option('--role <role>', 'the role it carries')
        .choices([...API_ROLES])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--ttl <duration>', 'how long it is valid: 90s, 15m, 1h, 7d').default('1h'),
    )
    .action(async (flags: { user: string; role: string; ttl: string }) => {
      const token = await mintToken(authSettingsOf(config), {
        user: flags.user,
        role: parseRole(flags.role),
        ttlSeconds: durationSeconds(flags.ttl, '--ttl'),
        now: systemClock.now(),
      });
      console.log(token);
    });
  return auth;
}

/**
 * `alphalake users …`: users and API keys in the configured store (a file under
 * ALPHALAKE_HOME, or MongoDB with MONGODB_URI), shared with running servers.
 */
export function usersCommand(config: Config): Command {
  const users = new Command('users').description(
    'Manage users and their API keys (the store under ALPHALAKE_HOME, or MongoDB with MONGODB_URI).',
  );
  // Who acted, for the audit log: the operating-system user running the CLI.
  const actor = `cli:${userInfo().username}`;
  // Changes are audited in master data's log, as the server's are (through the user
  // store's outbox: docs/mdm.md "Audit log"); what an earlier run left pending goes first.
  const withAccounts = async (work: (accounts: Accounts) => Promise<void>) => {
    const store = await openUserStore(config);
    const { masterData, close } = await openMasterData(config);
    try {
      const accounts = new Accounts(store, systemClock, accountAuditOf(masterData));
      await accounts.drainAudit();
      await work(accounts);
    } finally {
      await store.close();
      await close();
    }
  };
  users
    .command('add')
    .description('Add a user with a role.')
    .argument('<name>', 'user name: letters, digits, ".", "_", "@", "-"')
    .addOption(
      new Option('--role <role>', 'their role').choices([...API_ROLES]).makeOptionMandatory(),
    )
    .action((name: string, flags: { role: string }) =>
      withAccounts(async (accounts) => {
        const user = await accounts.addUser(name, flags.role, actor);
        console.log(`added ${user.name} (${user.role})`);
      }),
    );
  users
    .command('set-role')
    .description("Change a user's role (their API keys follow it).")
    .argument('<name>', 'user name')
    .addOption(
      new Option('--role <role>', 'their new role').choices([...API_ROLES]).makeOptionMandatory(),
    )
    .action((name: string, flags: { role: string }) =>
      withAccounts(async (accounts) => {
        const user = await accounts.setRole(name, flags.role, actor);
        console.log(`${user.name} is now ${user.role}`);
      }),
    );
  users
    .command('list')
    .description('List users, their roles and their API keys (ids only; keys are never stored).')
    .action(() =>
      withAccounts(async (accounts) => {
        const [all, keys] = await Promise.all([accounts.listUsers(), accounts.listKeys()]);
        for (const user of all) {
          console.log(`${user.name}\t${user.role}\tsince ${isoOfMicros(user.createdAt)}`);
          for (const key of keys.filter((k) => k.user === user.name)) {
            const state =
              key.revokedAt === undefined ? 'active' : `revoked ${isoOfMicros(key.revokedAt)}`;
            console.log(
              `  key ${key.id}\t${state}\tcreated ${isoOfMicros(key.createdAt)}${key.label ? `\t${key.label}` : ''}`,
            );
          }
        }
      }),
    );
  users
    .command('create-key')
    .description('Create an API key for a user and print it once (only its digest is stored).')
    .argument('<name>', 'the user the key acts as')
    .addOption(new Option('--label <text>', 'what the key is for').default(''))
    .action((name: string, flags: { label: string }) =>
      withAccounts(async (accounts) => {
        const created = await accounts.createKey(name, flags.label, actor);
        console.error(
          `API key ${created.record.id} for ${name}: shown this once, store it now. Send it as \`x-api-key: <key>\` or \`Authorization: ApiKey <key>\`.`,
        );
        console.log(created.key);
      }),
    );
  users
    .command('revoke-key')
    .description('Revoke an API key by its id (`users list` shows them): it never works again.')
    .argument('<id>', 'the key id (the part after `alk_`, before the second `_`)')
    .action((id: string) =>
      withAccounts(async (accounts) => {
        const key = await accounts.revokeKey(id, actor);
        console.log(`revoked key ${key.id} of ${key.user} (${isoOfMicros(key.revokedAt ?? 0)})`);
      }),
    );
  return users;
}
