import { masterDataAcceptance } from '../support/master-data-acceptance.js';

/** The master-data acceptance through GraphQL on the embedded store (NeDB under ALPHALAKE_HOME). */
masterDataAcceptance({ name: 'embedded', store: 'embedded', settings: () => ({}) });
