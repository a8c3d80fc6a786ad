// History — to be built.
export function HistoryPage(_props: { name: string }) {
  return (
    <section>
      <h1>History</h1>
    </section>
  );
}
