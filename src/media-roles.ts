/** Upload roles and the storage folder (data_type) each one goes to (CONTRACT.md §2). */
export const ROLES = ['profile', 'header', 'logo', 'site', 'product', 'event'] as const;
export type Role = (typeof ROLES)[number];
export type DataType = 'profile' | 'logo' | 'sites' | 'product' | 'event';

const DATA_TYPE_OF: Record<Role, DataType> = {
  profile: 'profile',
  header: 'profile',
  logo: 'logo',
  site: 'sites',
  product: 'product',
  event: 'event',
};

/** Accepts the contract's spellings (`sites` is an alias of `site`); undefined for anything else. */
export function parseRole(raw: string): Role | undefined {
  const value = raw.trim().toLowerCase();
  if (value === 'sites') return 'site';
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : undefined;
}

export function dataTypeOf(role: Role): DataType {
  return DATA_TYPE_OF[role];
}
