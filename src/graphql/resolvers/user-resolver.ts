import {
  Arg,
  Authorized,
  Ctx,
  Field,
  Mutation,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
} from 'type-graphql';
import { API_ROLES, type ApiKeyRecord, type ApiRole, type User } from '../../auth/index.js';
import type { ApiContext } from '../transport/context.js';
import { DateTimeScalar } from '../types/scalars.js';

const Role = Object.fromEntries(API_ROLES.map((role) => [role, role])) as {
  [R in ApiRole]: R;
};
registerEnumType(Role, {
  name: 'Role',
  description:
    'viewer < analyst < admin: a viewer reads; an analyst also backfills and retrains; an admin also edits master data, vacuums and manages users.',
  valuesConfig: {
    viewer: { description: 'Reads: market data, the lake, jobs, and who they are (`me`).' },
    analyst: {
      description:
        'A viewer who also enqueues backfills, compactions and retraining, and cancels jobs.',
    },
    admin: {
      description:
        'An analyst who also edits master data, vacuums, and manages users and API keys.',
    },
  },
});

const USER_NAME_RULE =
  '1 to 64 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or digit.';

@ObjectType('Principal', { description: 'Who the request was authenticated as.' })
class PrincipalType {
  @Field({
    description:
      'The user’s name: a JWT’s `sub`, the owner of an API key, or `anonymous` when auth is off.',
  })
  user!: string;

  @Field(() => Role, {
    description: 'What they may do: an API key acts with its owner’s current role.',
  })
  role!: ApiRole;

  @Field({ description: '`jwt`, `api-key`, or `off` (AUTH_MODE=off: nobody signed in).' })
  via!: string;

  @Field(() => String, { nullable: true, description: 'The API key used, by its public id.' })
  keyId!: string | null;
}

@ObjectType('ApiKey', { description: 'An API key, without its secret (stored only as a digest).' })
class ApiKeyType {
  @Field({ description: 'Public id: the middle of `alk_<id>_<secret>`.' })
  id!: string;

  @Field({ description: 'The user it acts as, with their current role.' })
  user!: string;

  @Field({ description: 'What it is for, as named at creation (empty when unnamed).' })
  label!: string;

  @Field(() => DateTimeScalar, { description: 'When it was created.' })
  createdAt!: number;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When it was revoked (it never authenticates again); null while it is valid.',
  })
  revokedAt!: number | null;

  static from(key: ApiKeyRecord): ApiKeyType {
    return Object.assign(new ApiKeyType(), {
      id: key.id,
      user: key.user,
      label: key.label,
      createdAt: key.createdAt,
      revokedAt: key.revokedAt ?? null,
    });
  }
}

@ObjectType('User', { description: 'Someone who may use the API, and their role.' })
class UserType {
  @Field({ description: 'Their name: a JWT’s `sub`, and what the audit log names them by.' })
  name!: string;

  @Field(() => Role, { description: 'What they, and their API keys, may do.' })
  role!: ApiRole;

  @Field(() => DateTimeScalar, { description: 'When they were added.' })
  createdAt!: number;

  @Field(() => [ApiKeyType], { description: 'Their API keys, revoked ones too, oldest first.' })
  keys!: ApiKeyType[];

  static from(user: User, keys: readonly ApiKeyRecord[]): UserType {
    return Object.assign(new UserType(), {
      name: user.name,
      role: user.role,
      createdAt: user.createdAt,
      keys: keys.filter((k) => k.user === user.name).map(ApiKeyType.from),
    });
  }
}

@ObjectType('CreatedApiKey', {
  description: 'A new API key: the key itself, shown this once, and its record.',
})
class CreatedApiKeyType {
  @Field({ description: 'The key itself, shown this once: it is stored only as a digest.' })
  key!: string;

  @Field(() => ApiKeyType, { description: 'The key as `users` will show it from now on.' })
  apiKey!: ApiKeyType;
}

/**
 * Users and API keys (src/auth). Reading yourself is open to every role; the rest is the
 * admin's (issue 11: an admin manages users).
 */
@Resolver()
export class UserResolver {
  @Authorized('viewer')
  @Query(() => PrincipalType, { description: 'Who you are signed in as, and your role.' })
  me(@Ctx() { principal }: ApiContext): PrincipalType {
    return Object.assign(new PrincipalType(), {
      user: principal?.user,
      role: principal?.role,
      via: principal?.via,
      keyId: principal?.keyId ?? null,
    });
  }

  @Authorized('admin')
  @Query(() => [UserType], { description: 'Every user, by name, with their API keys.' })
  async users(@Ctx() { services }: ApiContext): Promise<UserType[]> {
    const [users, keys] = await Promise.all([
      services.accounts.listUsers(),
      services.accounts.listKeys(),
    ]);
    return users.map((user) => UserType.from(user, keys));
  }

  @Authorized('admin')
  @Mutation(() => UserType, { description: 'Adds a user; CONFLICT when the name is taken.' })
  async addUser(
    @Ctx() { services, actor }: ApiContext,
    @Arg('name', { description: `The new user's name: ${USER_NAME_RULE}` }) name: string,
    @Arg('role', () => Role, { description: 'What they may do.' }) role: ApiRole,
  ): Promise<UserType> {
    return UserType.from(await services.accounts.addUser(name, role, actor), []);
  }

  @Authorized('admin')
  @Mutation(() => UserType, { description: "Changes a user's role; their API keys follow it." })
  async setUserRole(
    @Ctx() { services, actor }: ApiContext,
    @Arg('name', { description: 'The user; NOT_FOUND when there is none.' }) name: string,
    @Arg('role', () => Role, { description: 'Their new role.' }) role: ApiRole,
  ): Promise<UserType> {
    const user = await services.accounts.setRole(name, role, actor);
    return UserType.from(user, await services.accounts.listKeys(user.name));
  }

  @Authorized('admin')
  @Mutation(() => CreatedApiKeyType, {
    description: 'Creates an API key for a user; the answer holds the key, shown this once.',
  })
  async createApiKey(
    @Ctx() { services, actor }: ApiContext,
    @Arg('user', { description: 'The user the key acts as; NOT_FOUND when there is none.' })
    user: string,
    @Arg('label', {
      defaultValue: '',
      description: 'What the key is for, at most 200 characters (default empty).',
    })
    label: string,
  ): Promise<CreatedApiKeyType> {
    const created = await services.accounts.createKey(user, label, actor);
    return Object.assign(new CreatedApiKeyType(), {
      key: created.key,
      apiKey: ApiKeyType.from(created.record),
    });
  }

  @Authorized('admin')
  @Mutation(() => ApiKeyType, {
    description: 'Revokes an API key by its id: it never authenticates again.',
  })
  async revokeApiKey(
    @Ctx() { services, actor }: ApiContext,
    @Arg('id', {
      description:
        'The key’s public id (`ApiKey.id`); NOT_FOUND when there is none. Revoking it again keeps the first `revokedAt`.',
    })
    id: string,
  ): Promise<ApiKeyType> {
    return ApiKeyType.from(await services.accounts.revokeKey(id, actor));
  }
}
