import { createContext } from 'preact';
import { useContext, useEffect } from 'preact/hooks';
import type { Product } from '../../../domain/products.ts';

/** The session as `GET /ui/session` gives it. */
export interface SessionInfo {
  principal:
    | { kind: 'admin' }
    | { kind: 'token'; tenant: string; role: 'operator' | 'auditor' }
    | { kind: 'user'; id: string; name: string; mfaPending: boolean };
  /** Signed in with the admin key (the break-glass credential). */
  breakGlass?: boolean;
  /** What the session may do: install-wide, on every customer it sees, on particular customers. */
  access: { install: string[]; everywhere: string[]; tenants: Record<string, string[]> };
  csrf: string;
  expiresAt: string;
  products: Product[];
  areaProducts: Record<string, Product[]>;
  actions: Record<string, Product | null>;
  actionArgs: Record<string, JsonSchema>;
  enroll?: { ingressUrl: string; configured: boolean; reachable: boolean; caUrl: string };
}

/** The subset of JSON schema the command forms understand. */
export interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
}

/** A customer as `GET /tenants/:tenant` gives it. */
export interface TenantDoc {
  id: string;
  name: string;
  products: Product[];
  suspended: boolean;
  openEnrollment: boolean;
  createdAt: string;
  updatedAt: string;
}

/** What every page component gets from the shell. */
export interface PageProps {
  session: SessionInfo;
  /** The customer the page is of (null on install pages). */
  tenant: string;
  tenantDoc: TenantDoc | null;
  /** The item of a detail page (`/ui/t/<tenant>/<page>/<id>`). */
  id: string | null;
  /** Holds any permission that changes something on this customer. */
  canWrite: boolean;
  /** Sees several customers (the admin key, a user with roles on more than one or on the install). */
  isAdmin: boolean;
  /** Whether the session holds a permission (`src/api/permissions.ts`) on this customer, or install-wide. */
  can(permission: string): boolean;
  /** Reads the customer again (after a product or suspension change) and redraws the menu. */
  refreshTenant(waitFor?: string): Promise<void>;
}

/** Whether a session holds a permission on a customer (or install-wide, for `tenant` null). */
export function canOn(session: SessionInfo, tenant: string | null, permission: string): boolean {
  const a = session.access;
  return a.install.includes(permission) || a.everywhere.includes(permission) || (tenant !== null && (a.tenants[tenant] ?? []).includes(permission));
}

/** Tells the shell the page has drawn its data (`main[data-ready]`; focus and kept drafts follow). */
export const ReadyContext = createContext<() => void>(() => {});

/** Marks the page ready once `when` is true. */
export function useReady(when: boolean): void {
  const ready = useContext(ReadyContext);
  useEffect(() => {
    if (when) ready();
  }, [when]);
}

/** The ready callback, for components that decide themselves when they have drawn. */
export function useReadyCallback(): () => void {
  return useContext(ReadyContext);
}
