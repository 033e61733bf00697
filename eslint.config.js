// Lint rules, including the dependency direction of the layers (see docs/architecture.md):
// flows know only flows and security; http never reaches storage or email; adapters never reach http; only the
// process entries reach src/composition/, which alone picks adapters.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const infrastructure = [
  'fastify',
  '@fastify/*',
  'drizzle-orm',
  'drizzle-orm/*',
  'pg',
  'ioredis',
  'nodemailer',
  'pino',
];

function forbid(patterns, message) {
  return {
    'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'migrations/**', 'packages/*/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/flows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...infrastructure.map((group) => ({
              group: [group],
              message: 'flows receive ports; they never import infrastructure',
            })),
            {
              group: [
                '**/http/**',
                '**/storage/**',
                '**/email/**',
                '**/webhooks/**',
                '**/config.ts',
                '**/config-variables.ts',
                '**/composition/**',
              ],
              message: 'flows import only flows/* and security/*',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/security/**/*.ts'],
    rules: forbid(
      [
        '**/http/**',
        '**/storage/**',
        '**/email/**',
        '**/flows/**',
        '**/config.ts',
        '**/config-variables.ts',
        '**/composition/**',
      ],
      'security/ holds leaf modules',
    ),
  },
  {
    files: ['src/http/**/*.ts'],
    rules: forbid(
      [
        '**/storage/**',
        '**/email/**',
        '**/webhooks/**',
        'drizzle-orm',
        'pg',
        'ioredis',
        'nodemailer',
        '**/config.ts',
        '**/config-variables.ts',
        '**/composition/**',
      ],
      'http/ calls flows; adapters arrive through src/composition/',
    ),
  },
  {
    files: ['src/storage/**/*.ts'],
    rules: forbid(
      [
        '**/http/**',
        '**/email/**',
        '**/webhooks/**',
        '**/config.ts',
        '**/config-variables.ts',
        '**/composition/**',
        'fastify',
        'nodemailer',
      ],
      'storage/ implements ports and never reaches http/ or email/',
    ),
  },
  {
    files: ['src/email/**/*.ts'],
    rules: forbid(
      [
        '**/http/**',
        '**/storage/**',
        '**/config.ts',
        '**/config-variables.ts',
        '**/composition/**',
        'fastify',
        'drizzle-orm',
        'pg',
        'ioredis',
      ],
      'email/ implements ports and never reaches http/ or storage/',
    ),
  },
  {
    files: ['src/webhooks/**/*.ts'],
    rules: forbid(
      [
        '**/http/**',
        '**/storage/**',
        '**/email/**',
        '**/config.ts',
        '**/config-variables.ts',
        '**/composition/**',
        'fastify',
        'drizzle-orm',
        'pg',
        'ioredis',
        'nodemailer',
      ],
      'webhooks/ delivers through the WebhookQueue port and never reaches http/, storage/ or email/',
    ),
  },
  {
    files: ['src/queue/**/*.ts'],
    rules: forbid(
      [
        '**/http/**',
        '**/storage/**',
        '**/email/**',
        '**/webhooks/**',
        '**/flows/**',
        '**/config.ts',
        '**/config-variables.ts',
        '**/composition/**',
        ...infrastructure,
      ],
      'queue/ is a leaf the dispatchers share: it imports nothing of the project',
    ),
  },
);
