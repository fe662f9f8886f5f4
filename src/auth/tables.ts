/** The auth capability's table: API keys, stored only as salted scrypt hashes. */
export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  /** the first characters of the key (`vk_ab12…`), to tell keys apart in lists; not enough to use one */
  prefix: string;
  salt: string;
  hash: string;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
}

export interface AuthSchema {
  api_keys: ApiKeysTable;
}
