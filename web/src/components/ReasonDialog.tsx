/** Confirms a registry change and asks why: the reason lands in the model's history. */
import { useEffect, useRef, useState } from 'preact/hooks';

export function ReasonDialog(props: { title: string; confirm: string; onConfirm: (reason: string) => Promise<void>; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) return setError('Say why: the reason is kept in the model’s history.');
    setBusy(true);
    try {
      await props.onConfirm(reason.trim());
      props.onClose();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="dialog-title" onClose={props.onClose}>
      <form onSubmit={submit}>
        <h2 id="dialog-title">{props.title}</h2>
        <label for="reason">Reason (kept in the history)</label>
        <textarea id="reason" name="reason" rows={3} aria-required="true" value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <div class="row">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {props.confirm}
          </button>
        </div>
      </form>
    </dialog>
  );
}
