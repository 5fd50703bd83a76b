/** What a call needs from a token, in both vocabularies GitHub uses. */
export interface Permission {
  /** Fine-grained token / GitHub App permission, e.g. "Issues: write". */
  fine: string;
  /** Classic PAT scope, e.g. "repo (public_repo for public repositories)". */
  classic: string;
}

export const PERMISSIONS = {
  "contents:read": { fine: "Contents: read", classic: "repo for private repositories (none for public)" },
  "metadata:read": {
    fine: "Metadata: read (and push access to the repository)",
    classic: "repo or public_repo (and push access to the repository)",
  },
  "contents:write": { fine: "Contents: write", classic: "repo (public_repo for public repositories)" },
  "workflows:write": { fine: "Contents: write and Workflows: write", classic: "repo and workflow" },
  "issues:read": { fine: "Issues: read", classic: "repo for private repositories (none for public)" },
  "issues:write": { fine: "Issues: write", classic: "repo (public_repo for public repositories)" },
  "pulls:read": { fine: "Pull requests: read", classic: "repo for private repositories (none for public)" },
  "pulls:write": { fine: "Pull requests: write", classic: "repo (public_repo for public repositories)" },
  "checks:read": {
    fine: "Checks: read and Commit statuses: read",
    classic: "repo for private repositories (none for public)",
  },
  "actions:read": { fine: "Actions: read", classic: "repo for private repositories (none for public)" },
  "actions:write": { fine: "Actions: write", classic: "repo (workflow to dispatch)" },
  "admin:write": { fine: "Administration: write", classic: "repo (public_repo for public repositories)" },
  "members:read": { fine: "Organization Members: read", classic: "read:org" },
  "user:read": {
    fine: "none beyond the token itself",
    classic: "none (read:user for private profile fields)",
  },
  "orgs:read": { fine: "Organization Administration: read", classic: "read:org" },
  "gists:write": { fine: "Gists: write", classic: "gist" },
  "starring:write": { fine: "Starring: write", classic: "public_repo (repo for private repositories)" },
  "code_scanning:read": { fine: "Code scanning alerts: read", classic: "security_events" },
  "secret_scanning:read": { fine: "Secret scanning alerts: read", classic: "repo or security_events" },
  "dependabot:read": { fine: "Dependabot alerts: read", classic: "security_events" },
  "advisories:read": { fine: "Repository security advisories: read", classic: "repo or security_events" },
  "discussions:read": {
    fine: "Discussions: read",
    classic: "repo for private repositories (none for public)",
  },
  "discussions:write": { fine: "Discussions: write", classic: "repo (public_repo for public repositories)" },
  "projects:read": {
    fine: "Projects: read (an organization permission; a user's projects need a classic token)",
    classic: "read:project",
  },
  "projects:write": {
    fine: "Projects: write (an organization permission; a user's projects need a classic token)",
    classic: "project",
  },
  "code_quality:read": { fine: "Code quality: read", classic: "repo or security_events" },
  notifications: {
    fine: "not available to fine-grained tokens; use a classic token",
    classic: "notifications",
  },
} as const satisfies Record<string, Permission>;

export type PermissionKey = keyof typeof PERMISSIONS;

export function describePermission(key: PermissionKey): string {
  const p: Permission = PERMISSIONS[key];
  return `fine-grained: ${p.fine}; classic: ${p.classic}`;
}
