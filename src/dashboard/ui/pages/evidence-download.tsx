import { api, tpath } from '../lib/api.ts';

/**
 * The download of evidence bytes: a plain link the browser saves (through the session, like an
 * export). The API checks the bytes against the SHA-256 sealed at collection before a byte leaves,
 * and records the download in the chain of custody first; the page's custody trail shows it live.
 */
export function EvidenceDownload({
  tenant,
  evidence,
  allowed,
}: {
  tenant: string;
  evidence: { id: string; name: string; stored?: unknown };
  allowed: boolean;
}) {
  if (!evidence.stored) return null;
  if (!allowed) return <p class="muted small">Your role may not download the bytes of evidence.</p>;
  const file = evidence.name.split('/').pop() || 'evidence';
  return (
    <p class="download-bar">
      <a class="button primary" href={api.href(tpath(tenant, 'evidence', evidence.id, 'content'))} download={file} data-download>
        Download {file}
      </a>
      <span class="muted small">Checked against the sealed SHA-256 first; every download is recorded in the chain of custody below.</span>
    </p>
  );
}
