import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { TENANT_ID_INPUT_PATTERN } from '../../page-list.ts';
import { ScrollBox, Badge, Facts, PageHeading, Section } from '../components/bits.tsx';
import { ask } from '../components/dialog.tsx';
import { useAction } from '../lib/act.ts';
import { isPending, sentForApproval } from './approvals.tsx';
import { api, type ListPage, tpath } from '../lib/api.ts';
import { fmtTime } from '../lib/format.ts';
import { useLive } from '../lib/live.ts';
import { notify, notifyError } from '../lib/notices.tsx';
import { canOn, type PageProps, type SessionInfo, type TenantDoc, useReady } from '../lib/page.ts';

interface Token {
  id: string;
  role: string;
  label: string;
  revoked: boolean;
  createdAt: string;
  createdBy: string;
}

/** Shown once: a secret or token with a copy button, and what to do with it. */
function Once({ title, secret, children }: { title: string; secret: string; children?: ComponentChildren }) {
  const [copied, setCopied] = useState('Copy');
  return (
    <section class="once" aria-label={title} data-once>
      <h3>{title}</h3>
      <p class="warn">Shown this once. Copy it now: Stockade keeps only a hash.</p>
      <div class="copyrow">
        <input class="secret" type="text" readOnly value={secret} aria-label={title} spellcheck={false} />
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(secret).then(
              () => setCopied('Copied'),
              () => setCopied('Select and copy'),
            )
          }
        >
          {copied}
        </button>
      </div>
      {children}
    </section>
  );
}

/** The enroll command for a secret, with the CA download it needs. */
function EnrollHelp({ session, secret }: { session: SessionInfo; secret: string }) {
  const e = session.enroll;
  const [copied, setCopied] = useState('Copy command');
  if (!e) return null;
  const cmd = `STOCKADE_ENROLL_SECRET='${secret}' stockade agent enroll --url ${e.ingressUrl} --ca ./stockade-ca.crt --dir /var/lib/stockade-agent`;
  return (
    <>
      <p>
        On the customer's machine, save the{' '}
        <a href={e.caUrl} download="stockade-ca.crt">
          CA certificate
        </a>{' '}
        as <code>stockade-ca.crt</code>, then enroll an agent with:
      </p>
      <div class="copyrow">
        <textarea class="secret command" readOnly rows={3} aria-label="Enroll command" spellcheck={false} value={cmd} />
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(cmd).then(
              () => setCopied('Copied'),
              () => setCopied('Select and copy'),
            )
          }
        >
          {copied}
        </button>
      </div>
      {!e.reachable ? (
        <p class="warn">
          {e.ingressUrl} is where the ingress listens on this machine; agents elsewhere cannot reach it. Start Stockade with{' '}
          <code>--public-ingress-url https://&lt;name agents reach&gt;:&lt;port&gt;</code> (or <code>STOCKADE_PUBLIC_INGRESS_URL</code>) and this command uses
          it.
        </p>
      ) : null}
    </>
  );
}

async function confirmProductOff(t: TenantDoc, product: string): Promise<boolean> {
  const v = await ask(`Switch ${product} off for ${t.name}?`, [], {
    text: `Its pages, agent reports and commands are refused at once for ${t.id}; what was recorded stays and comes back when it is switched on again.`,
    confirm: `Switch ${product} off`,
    danger: true,
  });
  return v !== null;
}

function ProductToggle({ t, product, after }: { t: TenantDoc; product: string; after: (token: string) => Promise<void> }) {
  const on = t.products.includes(product as TenantDoc['products'][number]);
  // What the box shows while a change is asked for and under way; the customer's state otherwise.
  const [want, setWant] = useState<boolean | null>(null);
  const toggle = useAction(async (enabled: boolean) => {
    try {
      if (!enabled && !(await confirmProductOff(t, product))) return;
      const out = await api.put<{ consistencyToken: string }>(tpath(t.id, 'products', product), { enabled });
      notify(`${product} ${enabled ? 'on' : 'off'} for ${t.id}`);
      await after(out.consistencyToken);
    } finally {
      setWant(null);
    }
  });
  const id = `prod-${t.id}-${product}`;
  return (
    <label class="toggle" for={id}>
      <input
        type="checkbox"
        id={id}
        data-product={product}
        checked={want ?? on}
        disabled={toggle.busy}
        onChange={(ev) => {
          const enabled = (ev.currentTarget as HTMLInputElement).checked;
          setWant(enabled);
          void toggle.run(enabled);
        }}
      />
      {product}
    </label>
  );
}

export function CustomersPage(p: PageProps) {
  if (p.id) return <CustomerDetail {...p} id={p.id} />;
  const [items, setItems] = useState<TenantDoc[] | null>(null);
  const [once, setOnce] = useState<{ title: string; secret: string; enroll: boolean } | null>(null);
  const load = async (waitFor?: { tenant: string; token: string }) => {
    try {
      if (waitFor) await api.get(tpath(waitFor.tenant), { waitFor: waitFor.token });
      setItems((await api.get<{ items: TenantDoc[] }>('/tenants')).items);
    } catch (err) {
      notifyError(err, () => void load(waitFor));
    }
  };
  useEffect(() => {
    void load();
  }, []);
  const create = useAction(async (form: HTMLFormElement) => {
    const f = new FormData(form);
    const id = String(f.get('id')).trim();
    const out = await api.post<{ id: string; enrollSecret: string; consistencyToken: string }>('/tenants', { id, name: String(f.get('name')).trim() });
    notify(`Customer ${id} created`);
    setOnce({ title: `Enrollment secret of ${out.id}`, secret: out.enrollSecret, enroll: true });
    form.reset();
    await load({ tenant: out.id, token: out.consistencyToken });
    await p.refreshTenant();
  });
  const after = (t: TenantDoc) => async (token: string) => {
    await load({ tenant: t.id, token });
    await p.refreshTenant();
  };
  useReady(items !== null);
  return (
    <>
      <PageHeading>Customers</PageHeading>
      {p.can('tenants.create') ? (
        <Section title="New customer">
          <form
            class="inline-form"
            aria-label="New customer"
            noValidate
            onSubmit={(ev) => {
              ev.preventDefault();
              const form = ev.currentTarget as HTMLFormElement;
              if (form.reportValidity()) void create.run(form);
            }}
          >
            <div class="field">
              <label for="new-id">Customer id</label>
              <input
                id="new-id"
                name="id"
                required
                pattern={TENANT_ID_INPUT_PATTERN}
                placeholder="acme"
                autoComplete="off"
                spellcheck={false}
                aria-describedby="new-id-hint"
              />
              <p class="hint" id="new-id-hint">
                1–63 of a–z, 0–9 and -, starting with a letter or digit.
              </p>
            </div>
            <div class="field">
              <label for="new-name">Name</label>
              <input id="new-name" name="name" required maxLength={200} placeholder="Acme Corp" autoComplete="off" />
            </div>
            <button type="submit" class="primary" disabled={create.busy}>
              Create customer
            </button>
          </form>
        </Section>
      ) : null}
      <div aria-live="polite">
        {once ? (
          <Once title={once.title} secret={once.secret}>
            {once.enroll ? <EnrollHelp session={p.session} secret={once.secret} /> : null}
          </Once>
        ) : null}
      </div>
      <section aria-label="All customers">
        <h2>All customers</h2>
        {items === null ? (
          <p class="muted">Loading…</p>
        ) : items.length === 0 ? (
          <p class="empty">No customers yet: create the first one above.</p>
        ) : (
          <ScrollBox label="Customers">
            <table data-table="customers">
              <thead>
                <tr>
                  {['Customer', 'Status', 'Products', 'Created', 'Actions'].map((h) => (
                    <th scope="col" key={h}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {items.map((t) => (
                  <tr key={t.id} data-id={t.id}>
                    <td class="customer">
                      <a href={`/ui/t/${t.id}/overview`}>{t.name}</a> <span class="muted">({t.id})</span>
                    </td>
                    <td>
                      <Badge value={t.suspended ? 'suspended' : 'active'} />
                    </td>
                    <td>
                      <fieldset class="toggles">
                        <legend class="sr">Products of {t.id}</legend>
                        {p.session.products.map((x) =>
                          canOn(p.session, t.id, 'tenant.manage') ? (
                            <ProductToggle key={x} t={t} product={x} after={after(t)} />
                          ) : t.products.includes(x) ? (
                            <span key={x} class="toggle">
                              {x}
                            </span>
                          ) : null,
                        )}
                      </fieldset>
                    </td>
                    <td>
                      <time dateTime={t.createdAt}>{fmtTime(t.createdAt)}</time>
                    </td>
                    <td>
                      <CustomerActions session={p.session} t={t} after={after(t)} show={setOnce} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        )}
      </section>
    </>
  );
}

function CustomerActions({
  session,
  t,
  after,
  show,
}: {
  session: SessionInfo;
  t: TenantDoc;
  after: (token: string) => Promise<void>;
  show: (o: { title: string; secret: string; enroll: boolean }) => void;
}) {
  const can = (x: string) => canOn(session, t.id, x);
  const rotate = useRotate(t, show);
  const token = useNewToken(t, show);
  const suspend = useAction(async () => {
    const v = await ask(`Suspend ${t.id}?`, [{ name: 'reason', label: 'Reason', required: true, maxLength: 500 }], {
      text: 'Its agents are refused at the ingress and its secret enrolls nothing until resumed.',
      confirm: 'Suspend',
      danger: true,
    });
    if (!v) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(t.id, 'suspend'), { reason: v.reason });
    if (isPending(out)) return sentForApproval(`The suspension of ${t.id}`, out);
    notify(`${t.id} suspended`);
    await after(out.consistencyToken);
  });
  const resume = useAction(async () => {
    const out = await api.post<{ consistencyToken: string }>(tpath(t.id, 'resume'));
    notify(`${t.id} resumed`);
    await after(out.consistencyToken);
  });
  return (
    <div class="row-actions">
      <a class="button" href={`/ui/customers/${t.id}`}>
        Manage
      </a>
      {can('tenant.manage') ? (
        <button type="button" disabled={rotate.busy} onClick={() => void rotate.run()}>
          Rotate secret
        </button>
      ) : null}
      {can('tokens.manage') ? (
        <button type="button" disabled={token.busy} onClick={() => void token.run()}>
          New token
        </button>
      ) : null}
      {!can('tenant.suspend') ? null : t.suspended ? (
        <button type="button" disabled={resume.busy} onClick={() => void resume.run()}>
          Resume
        </button>
      ) : (
        <button type="button" class="danger" disabled={suspend.busy} onClick={() => void suspend.run()}>
          Suspend
        </button>
      )}
    </div>
  );
}

function useRotate(t: TenantDoc, show: (o: { title: string; secret: string; enroll: boolean }) => void) {
  return useAction(async () => {
    const ok = await ask(`Rotate the enrollment secret of ${t.id}?`, [], {
      text: 'The current secret stops enrolling new agents at once. Agents already enrolled keep working.',
      confirm: 'Rotate',
      danger: true,
    });
    if (!ok) return;
    const out = await api.post<{ enrollSecret: string }>(tpath(t.id, 'enroll-secret', 'rotate'));
    notify('Secret rotated');
    show({ title: `New enrollment secret of ${t.id}`, secret: out.enrollSecret, enroll: true });
  });
}

function useNewToken(t: TenantDoc, show: (o: { title: string; secret: string; enroll: boolean }) => void, after?: (token: string) => void) {
  return useAction(async () => {
    const v = await ask(
      `New token for ${t.id}`,
      [
        {
          name: 'role',
          label: 'Role',
          kind: 'select',
          options: [
            ['operator', 'operator (read and act)'],
            ['auditor', 'auditor (read only)'],
          ],
          value: 'operator',
        },
        { name: 'label', label: 'Label', maxLength: 200, hint: 'Who or what it is for.' },
      ],
      { confirm: 'Create token' },
    );
    if (!v) return;
    const out = await api.post<{ token: string; consistencyToken: string }>(tpath(t.id, 'tokens'), { role: v.role, ...(v.label ? { label: v.label } : {}) });
    notify('Token created');
    show({ title: `${v.role} token of ${t.id}`, secret: out.token, enroll: false });
    after?.(out.consistencyToken);
  });
}

function CustomerDetail(p: PageProps & { id: string }) {
  const [t, setT] = useState<TenantDoc | null>(null);
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [once, setOnce] = useState<{ title: string; secret: string; enroll: boolean } | null>(null);
  const load = async (waitFor?: string) => {
    const w = waitFor ? { waitFor } : {};
    try {
      // Only whoever may manage the customer's tokens reads them (an MSP analyst opens this page too).
      const [doc, list] = await Promise.all([
        api.get<TenantDoc>(tpath(p.id), w),
        canOn(p.session, p.id, 'tokens.manage') ? api.get<ListPage<Token>>(tpath(p.id, 'tokens'), { limit: 200, ...w }) : { items: [] as Token[] },
      ]);
      setT(doc);
      setTokens(list.items);
    } catch {
      setMissing(true);
    }
  };
  useEffect(() => {
    void load();
  }, [p.id]);
  useLive(['tenant', 'token'], (_c, token) => void load(token));
  const rename = useAction(async (form: HTMLFormElement) => {
    const name = String(new FormData(form).get('name')).trim();
    const out = await api.patch<{ consistencyToken: string }>(tpath(p.id), { name });
    notify('Customer renamed');
    await load(out.consistencyToken);
    await p.refreshTenant();
  });
  const openEnrollment = useAction(async (enabled: boolean) => {
    if (enabled) {
      const ok = await ask('Let agents enroll into default without a secret?', [], {
        text: 'Any machine that reaches the ingress can then enroll. Use it only on a trusted network, and switch it off when the agents are in.',
        confirm: 'Turn on open enrollment',
        danger: true,
      });
      if (!ok) return;
    }
    const out = await api.put<{ consistencyToken: string }>(tpath(p.id, 'open-enrollment'), { enabled });
    notify(`Open enrollment ${enabled ? 'on' : 'off'}`);
    await load(out.consistencyToken);
  });
  const rotate = useRotate(t ?? ({ id: p.id } as TenantDoc), setOnce);
  const newToken = useNewToken(t ?? ({ id: p.id } as TenantDoc), setOnce, (token) => void load(token));
  useReady(t !== null || missing);
  if (missing) return <PageHeading>Customer not found</PageHeading>;
  if (!t || !tokens) return <p class="muted">Loading…</p>;
  return (
    <>
      <p>
        <a href="/ui/customers">← Customers</a>
      </p>
      <PageHeading>
        <span class="tenant-title">{t.name}</span> <Badge value={t.suspended ? 'suspended' : 'active'} />
      </PageHeading>
      <Facts
        items={[
          ['Customer id', <code key="i">{t.id}</code>],
          ['Products', t.products.join(', ') || 'none (core only)'],
          ['Created', fmtTime(t.createdAt)],
        ]}
      />
      <p>
        <a class="button" href={`/ui/t/${t.id}/overview`}>
          Open {t.name}
        </a>
      </p>
      {canOn(p.session, t.id, 'tenant.manage') ? (
        <Section title="Customer name">
          <form
            class="inline-form"
            aria-label="Rename the customer"
            onSubmit={(ev) => {
              ev.preventDefault();
              const form = ev.currentTarget as HTMLFormElement;
              if (form.reportValidity()) void rename.run(form);
            }}
          >
            <div class="field grow">
              <label for="cust-name">Name</label>
              <input id="cust-name" name="name" required maxLength={200} defaultValue={t.name} autoComplete="off" />
            </div>
            <button type="submit" disabled={rename.busy}>
              Rename
            </button>
          </form>
        </Section>
      ) : null}
      {canOn(p.session, t.id, 'tenant.manage') ? (
        <Section title="Enrolling agents">
          <p>
            Agents enroll with the customer's enrollment secret, shown only when it is made. Download the{' '}
            <a href={p.session.enroll?.caUrl ?? '/ui/ca.crt'} download="stockade-ca.crt">
              CA certificate
            </a>{' '}
            the agents check the ingress with.
          </p>
          <div class="toolbar">
            <button type="button" disabled={rotate.busy} onClick={() => void rotate.run()}>
              Rotate secret
            </button>
          </div>
          {t.id === 'default' ? (
            <div class="field inline">
              <input
                type="checkbox"
                id="open-enrollment"
                checked={t.openEnrollment}
                disabled={openEnrollment.busy}
                onChange={(ev) => {
                  const box = ev.currentTarget as HTMLInputElement;
                  const want = box.checked;
                  box.checked = !want;
                  void openEnrollment.run(want);
                }}
              />
              <label for="open-enrollment">Open enrollment: agents enroll without a secret (default customer only)</label>
            </div>
          ) : null}
          <div aria-live="polite">
            {once ? (
              <Once title={once.title} secret={once.secret}>
                {once.enroll ? <EnrollHelp session={p.session} secret={once.secret} /> : null}
              </Once>
            ) : null}
          </div>
        </Section>
      ) : null}
      {canOn(p.session, t.id, 'tokens.manage') ? (
        <Section title="Tokens">
          <div class="toolbar">
            <button type="button" disabled={newToken.busy} onClick={() => void newToken.run()}>
              New token
            </button>
          </div>
          {tokens.length ? (
            <ScrollBox label="Tokens">
              <table data-table="tokens">
                <thead>
                  <tr>
                    {['Label', 'Role', 'Created', 'State', 'Actions'].map((h) => (
                      <th scope="col" key={h}>
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {tokens.map((k) => (
                    <tr key={k.id} data-id={k.id}>
                      <td title={k.id}>{k.label || <span class="muted">no label</span>}</td>
                      <td>{k.role}</td>
                      <td>{`${fmtTime(k.createdAt)} by ${k.createdBy}`}</td>
                      <td>
                        <Badge value={k.revoked ? 'revoked' : 'active'} />
                      </td>
                      <td>{k.revoked ? '' : <RevokeToken tenant={t.id} token={k} after={(tok) => void load(tok)} />}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollBox>
          ) : (
            <p class="empty">No tokens yet.</p>
          )}
        </Section>
      ) : null}
    </>
  );
}

function RevokeToken({ tenant, token, after }: { tenant: string; token: Token; after: (t: string) => void }) {
  const revoke = useAction(async () => {
    const ok = await ask(`Revoke the ${token.role} token ${token.label ? `"${token.label}"` : token.id}?`, [], {
      text: 'It stops working at once, also in dashboards signed in with it.',
      confirm: 'Revoke token',
      danger: true,
    });
    if (!ok) return;
    const out = await api.post<{ consistencyToken: string }>(tpath(tenant, 'tokens', token.id, 'revoke'));
    notify('Token revoked');
    after(out.consistencyToken);
  });
  return (
    <button type="button" class="danger" disabled={revoke.busy} onClick={() => void revoke.run()}>
      Revoke
    </button>
  );
}
