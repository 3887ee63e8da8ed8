"""The plain LangChain pipeline Verbatim is measured against (issue 9); runs in its own venv.

python langchain_peer.py ingest DOCS_DIR INDEX_DIR MODEL_DIR
python langchain_peer.py load INDEX_DIR MODEL_DIR "a question"

Fifteen lines a new user would write: DirectoryLoader, RecursiveCharacterTextSplitter(1000, 150),
HuggingFaceEmbeddings, FAISS.from_documents, save_local; and load_local + similarity_search.
"""

import sys

from langchain_community.document_loaders import DirectoryLoader, TextLoader
from langchain_community.vectorstores import FAISS
from langchain_huggingface import HuggingFaceEmbeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter


def main() -> None:
    """Ingest a folder of .txt files into a FAISS index, or load one and search it."""
    mode, *arguments = sys.argv[1:]
    if mode == "ingest":
        docs_dir, index_dir, model_dir = arguments
        loader = DirectoryLoader(
            docs_dir, glob="**/*.txt", loader_cls=TextLoader, loader_kwargs={"encoding": "utf-8"}
        )
        documents = loader.load()
        chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=150).split_documents(documents)
        FAISS.from_documents(chunks, HuggingFaceEmbeddings(model_name=model_dir)).save_local(index_dir)
        print(f"{len(documents)} documents, {len(chunks)} chunks")
    elif mode == "load":
        index_dir, model_dir, query = arguments
        embeddings = HuggingFaceEmbeddings(model_name=model_dir)
        store = FAISS.load_local(index_dir, embeddings, allow_dangerous_deserialization=True)
        print(store.similarity_search(query, k=5)[0].metadata["source"])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
